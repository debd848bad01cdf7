package ferry.actors.session;

import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import java.util.List;

/**
 * A device's answer for one round: the trained weights as blob refs (client half then server half when split,
 * the whole model when local), how many samples produced them, and what it cost. {@code error} is non-null when
 * the device could not finish; {@code trainSeconds} is the time from its first batch to its last,
 * {@code stepMillisMedian} the median time of a normal batch (forward, edge, backward), {@code moves} the moves it made in the round; the session then leaves it out of the aggregate and records why.
 * {@code edgeId} is the edge the device was attached to when the round began: the edge that aggregates its
 * update first when aggregation is hierarchical (null: none).
 */
public record DeviceResult(String deviceId, int round, int attempt, long samples, List<ModelRef> parts,
                           double loss, double trainAccuracy, long bytesUp, long bytesDown, double trainSeconds,
                           double stepMillisMedian, List<MoveRecord> moves, String error, String edgeId)
        implements CborSerializable {
    public DeviceResult {
        parts = List.copyOf(parts);
        moves = moves == null ? List.of() : List.copyOf(moves);
    }

    public static DeviceResult failed(String deviceId, RoundInstruction ins, String error) {
        return new DeviceResult(deviceId, ins.round(), ins.attempt(), 0, List.of(), 0, 0, 0, 0, 0, 0, List.of(),
                error, null);
    }

    public boolean ok() {
        return error == null;
    }
}
