package ferry.zoo.orchestrate;

import java.util.ArrayList;
import java.util.List;

/**
 * One round's plan: an assignment per device, in the order the devices were given.
 *
 * @param policy      the battery policy it was made with
 * @param assignments one per device, in input order
 */
public record RoundPlan(Policy policy, List<Assignment> assignments) {

    public RoundPlan {
        assignments = List.copyOf(assignments);
    }

    /** The assignment of {@code deviceId}. */
    public Assignment of(String deviceId) {
        for (Assignment a : assignments) {
            if (a.deviceId().equals(deviceId)) {
                return a;
            }
        }
        throw new IllegalArgumentException("no device '" + deviceId + "' in this plan");
    }

    /** The devices that take part, in input order. */
    public List<Assignment> participants() {
        List<Assignment> out = new ArrayList<>();
        for (Assignment a : assignments) {
            if (a.participates()) {
                out.add(a);
            }
        }
        return out;
    }

    /** How many devices attach to {@code edgeId}. */
    public int attachedTo(String edgeId) {
        int n = 0;
        for (Assignment a : assignments) {
            if (a.participates() && a.edgeId().equals(edgeId)) {
                n++;
            }
        }
        return n;
    }

    /** The longest predicted participant time: the round's predicted length (0 if nobody takes part). */
    public double predictedRoundSeconds() {
        double max = 0;
        for (Assignment a : assignments) {
            max = Math.max(max, a.predictedSeconds());
        }
        return max;
    }

    /** The energy the participants are predicted to spend in all. */
    public double predictedJoules() {
        double sum = 0;
        for (Assignment a : assignments) {
            sum += a.predictedJoules();
        }
        return sum;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("RoundPlan[" + policy + ", " + participants().size() + "/"
                + assignments.size() + " take part]");
        for (Assignment a : assignments) {
            s.append("\n  ").append(a.deviceId()).append(": ");
            if (a.participates()) {
                s.append(a.mode()).append(a.mode() == Mode.OFFLOAD ? " cut " + a.cut() : "").append(" via ")
                        .append(a.edgeId()).append(" — ");
            } else {
                s.append("out — ");
            }
            s.append(a.reason());
        }
        return s.toString();
    }
}
