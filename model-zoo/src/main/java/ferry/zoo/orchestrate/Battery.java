package ferry.zoo.orchestrate;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Batteries between rounds: a round's energy is taken from a device; one that runs out before the round's energy
 * is spent has stopped mid-round (its update never arrives) and one left at zero is off, out of the fleet.
 */
public final class Battery {
    private Battery() {}

    /**
     * What a round did to one device.
     *
     * @param device    the device with what is left (0 if it ran out)
     * @param finished  whether the battery lasted the whole round (its update arrives)
     * @param fractionDone the part of the round's work done before the battery ran out, 0..1
     */
    public record Drain(FleetDevice device, boolean finished, double fractionDone) {
        /** Still in the fleet: some energy left. */
        public boolean alive() {
            return !device.empty();
        }
    }

    /** Takes {@code joules} from the device's battery. */
    public static Drain drain(FleetDevice device, double joules) {
        if (!(joules >= 0) || !Double.isFinite(joules)) {
            throw new IllegalArgumentException("device '" + device.id() + "': a round's energy must be >= 0 and"
                    + " finite, got " + joules + " J");
        }
        double left = device.batteryJoules();
        if (joules <= left) {
            return new Drain(device.withBattery(left - joules), true, 1);
        }
        return new Drain(device.withBattery(0), false, left / joules);
    }

    /** Adds {@code joules} (charging), up to the capacity. */
    public static FleetDevice charge(FleetDevice device, double joules) {
        if (!(joules >= 0) || !Double.isFinite(joules)) {
            throw new IllegalArgumentException("device '" + device.id() + "': charge must be >= 0 and finite, got "
                    + joules + " J");
        }
        return device.withBattery(Math.min(device.capacityJoules(), device.batteryJoules() + joules));
    }

    /** A round applied to a fleet. */
    public record Round(List<FleetDevice> fleet, List<String> finished, List<String> lost) {
        public Round {
            fleet = List.copyOf(fleet);
            finished = List.copyOf(finished);
            lost = List.copyOf(lost);
        }
    }

    /**
     * Applies a round to the fleet: each participant of the plan spends {@code spent.get(id)} joules, or its
     * predicted joules if the map has no entry for it. The returned fleet keeps the devices' order and leaves out
     * those now at zero; {@code finished} lists the participants whose update arrives, {@code lost} the devices
     * that left the fleet.
     */
    public static Round apply(List<FleetDevice> fleet, RoundPlan plan, Map<String, Double> spent) {
        List<FleetDevice> after = new ArrayList<>();
        List<String> finished = new ArrayList<>();
        List<String> lost = new ArrayList<>();
        for (FleetDevice d : fleet) {
            Assignment a = plan.of(d.id());
            FleetDevice now = d;
            if (a.participates()) {
                Drain r = drain(d, spent.getOrDefault(d.id(), a.predictedJoules()));
                now = r.device();
                if (r.finished()) {
                    finished.add(d.id());
                }
            }
            if (now.empty()) {
                lost.add(d.id());
            } else {
                after.add(now);
            }
        }
        return new Round(after, finished, lost);
    }
}
