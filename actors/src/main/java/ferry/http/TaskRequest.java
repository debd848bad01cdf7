package ferry.http;

import ferry.actors.node.DatasetRegistry;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.Planning;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TaskOptions;
import java.util.List;
import java.util.Locale;

/**
 * A learning task as submitted over HTTP (JSON). Every field but {@code devices} may be left out; the defaults
 * are those of the main job. Raw data never leaves a device whatever is asked: {@code privacy} can only ask for
 * more (a selection that sends fewer activations), never for less.
 *
 * <pre>{"devices": ["dev-1", "dev-2"], "algorithm": "auto", "rounds": 10, "targetAccuracy": 0.85,
 *  "deadlineSeconds": 60, "batteryThreshold": 0.1, "selection": {"selector": "centroid", "fraction": 0.3}}</pre>
 */
public record TaskRequest(String model, String dataset, String algorithm, List<String> devices, Integer rounds,
                          Double targetAccuracy, Double deadlineSeconds, Integer batch, Double learningRate,
                          Integer cut, Double phi, String planning, Double batteryThreshold, Selection selection,
                          Integer seed, Integer testSamples, List<String> edges) {

    /** Which share of each device's samples trains each round, and how they are picked. */
    public record Selection(String selector, Double fraction) {}

    /** The session this task runs as; throws IllegalArgumentException naming the field that is wrong. */
    public SessionSpec toSpec() {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("'devices' must list at least one registered device id");
        }
        for (String d : devices) {
            if (d == null || d.isBlank()) {
                throw new IllegalArgumentException("'devices' holds a blank id");
            }
        }
        String algo = algorithm == null ? "splitfed" : algorithm;
        Planning plan;
        try {
            plan = planning == null ? Planning.FIXED : Planning.valueOf(planning.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'planning' is fixed or optimised, got '" + planning + "'");
        }
        TaskOptions options = new TaskOptions(or(targetAccuracy, 0), or(deadlineSeconds, 0),
                or(batteryThreshold, 0), selection == null ? "none" : selection.selector(),
                selection == null || selection.fraction() == null ? 1 : selection.fraction(), edges);
        double lr = or(learningRate, 0.01);
        return new SessionSpec(algo, model == null ? "vgg5" : model,
                dataset == null ? DatasetRegistry.FASHION_MNIST : dataset, devices, rounds == null ? 3 : rounds,
                cut == null ? 4 : cut, batch == null ? 50 : batch, 1, (float) lr, seed == null ? 1 : seed,
                testSamples == null ? 0 : testSamples, 3600,
                MigrationMode.FEDFLY, List.of(), or(phi, algo.equals("epsl") ? 0.5 : 0), plan, options);
    }

    private static double or(Double v, double dflt) {
        return v == null ? dflt : v;
    }
}
