package ferry.zoo.orchestrate;

/**
 * A device of the fleet as the round planner sees it.
 *
 * @param id                the device's name, unique in a fleet
 * @param flops             FLOP/s it sustains for training
 * @param linkBitsPerSecond its radio's rate to an edge, each way (the edge's shared link may give it less)
 * @param batteryJoules     energy left, 0..capacity
 * @param capacityJoules    energy when full (for a phone, the share of its battery its owner lets learning use)
 * @param samples           training samples it holds; a round trains them for the planner's local epochs
 */
public record FleetDevice(String id, double flops, double linkBitsPerSecond, double batteryJoules,
                          double capacityJoules, int samples) {

    public FleetDevice {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("a device needs a non-blank id");
        }
        positive(id, "FLOP/s", flops);
        positive(id, "link rate (bit/s)", linkBitsPerSecond);
        positive(id, "battery capacity (J)", capacityJoules);
        if (!(batteryJoules >= 0) || batteryJoules > capacityJoules) {
            throw new IllegalArgumentException("device '" + id + "': battery must be in 0.." + capacityJoules
                    + " J (its capacity), got " + batteryJoules);
        }
        if (samples < 1) {
            throw new IllegalArgumentException("device '" + id + "': needs at least one training sample, got "
                    + samples);
        }
    }

    private static void positive(String id, String what, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException("device '" + id + "': " + what + " must be positive and finite, got "
                    + v);
        }
    }

    /** Battery left as a fraction of the capacity, 0..1. */
    public double batteryFraction() {
        return batteryJoules / capacityJoules;
    }

    /** True when nothing is left: the device is off and out of the fleet. */
    public boolean empty() {
        return batteryJoules <= 0;
    }

    /** The same device with {@code joules} left. */
    public FleetDevice withBattery(double joules) {
        return new FleetDevice(id, flops, linkBitsPerSecond, joules, capacityJoules, samples);
    }
}
