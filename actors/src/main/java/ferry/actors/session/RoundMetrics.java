package ferry.actors.session;

import ferry.persistence.CborSerializable;
import java.util.List;

/** What one completed round achieved and cost, the devices' moves included; persisted on the session. */
public record RoundMetrics(int round, int attempt, double trainLoss, double trainAccuracy, double testAccuracy,
                           double testLoss, double seconds, long bytesUp, long bytesDown, int participants,
                           List<String> failures, List<MoveRecord> moves) implements CborSerializable {
    public RoundMetrics {
        failures = List.copyOf(failures);
        moves = moves == null ? List.of() : List.copyOf(moves);
    }
}
