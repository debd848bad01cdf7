package ferry.actors.session;

import ferry.persistence.CborSerializable;

/**
 * What a submitted learning task asks beyond the algorithm: stop once the global model reaches
 * {@code targetAccuracy} (0: run every round), plan each round to end within {@code deadlineSeconds} (0: no
 * deadline), let no device with less than {@code batteryThreshold} of its battery take part, and train each
 * device on the share {@code selectionFraction} of its samples that {@code selector} picks ("none": all).
 * {@code edges}: for "auto" tasks, edges the orchestrator may attach devices to besides those they are on.
 */
public record TaskOptions(double targetAccuracy, double deadlineSeconds, double batteryThreshold, String selector,
                          double selectionFraction, java.util.List<String> edges) implements CborSerializable {
    public static final TaskOptions NONE = new TaskOptions(0, 0, 0, "none", 1, java.util.List.of());

    public TaskOptions {
        edges = edges == null ? java.util.List.of() : java.util.List.copyOf(edges);
        selector = selector == null || selector.isBlank() ? "none" : selector;
        ferry.zoo.select.DataSelectors.byName(selector); // an unknown name fails here, with the known ones
        if (selectionFraction == 0) {
            selectionFraction = 1;
        }
        if (!(targetAccuracy >= 0 && targetAccuracy <= 1)) {
            throw new IllegalArgumentException("target accuracy must be in [0, 1], got " + targetAccuracy);
        }
        if (!(deadlineSeconds >= 0) || Double.isInfinite(deadlineSeconds)) {
            throw new IllegalArgumentException("deadline must be >= 0 seconds (0: none), got " + deadlineSeconds);
        }
        if (!(batteryThreshold >= 0 && batteryThreshold < 1)) {
            throw new IllegalArgumentException("battery threshold is a share of the battery in [0, 1), got "
                    + batteryThreshold);
        }
        if (!(selectionFraction > 0 && selectionFraction <= 1)) {
            throw new IllegalArgumentException("selection fraction must be in (0, 1], got " + selectionFraction);
        }
    }
}
