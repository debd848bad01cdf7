package ferry.zoo.orchestrate;

/**
 * The planner's decision for one device in one round.
 *
 * @param deviceId         the device
 * @param participates     whether it trains this round
 * @param edgeId           the edge it attaches to; null if it does not take part
 * @param cut              0 for {@link Mode#LOCAL}, the cut (1..units-1) for {@link Mode#OFFLOAD}; -1 if it does
 *                         not take part
 * @param mode             LOCAL or OFFLOAD; null if it does not take part
 * @param predictedSeconds the round's predicted duration for this device, under the final load of its edge (0 if
 *                         it does not take part)
 * @param predictedJoules  the energy the round is predicted to take from its battery (0 if it does not take part)
 * @param reason           why, in words: the numbers that decided it
 */
public record Assignment(String deviceId, boolean participates, String edgeId, int cut, Mode mode,
                         double predictedSeconds, double predictedJoules, String reason) {

    public Assignment {
        if (deviceId == null || reason == null) {
            throw new IllegalArgumentException("an assignment needs a device id and a reason");
        }
        if (participates) {
            if (edgeId == null || mode == null || (mode == Mode.LOCAL) != (cut == 0) || cut < 0) {
                throw new IllegalArgumentException("device '" + deviceId + "': a participant needs an edge and a mode"
                        + " that matches its cut (LOCAL is cut 0), got " + edgeId + ", " + mode + ", cut " + cut);
            }
        } else if (edgeId != null || mode != null || cut != -1) {
            throw new IllegalArgumentException("device '" + deviceId + "' does not take part: no edge, mode or cut");
        }
    }

    static Assignment excluded(String deviceId, String reason) {
        return new Assignment(deviceId, false, null, -1, null, 0, 0, reason);
    }
}
