package ferry.actors.session;

import ferry.persistence.CborSerializable;

/**
 * The orchestrator's decision for one device in one round of an "auto" task, as the session journals it: whether
 * it trains, on which edge, locally (cut 0, FedAvg) or offloaded at {@code cut}, what that is predicted to cost,
 * and why.
 */
public record DevicePlan(String deviceId, boolean participates, String edgeId, int cut, String mode,
                         double predictedSeconds, double predictedJoules, double batteryJoules, String reason)
        implements CborSerializable {

    public boolean offloaded() {
        return "OFFLOAD".equals(mode);
    }
}
