package ferry.actors.session;

import ferry.persistence.CborSerializable;
import java.util.List;

/**
 * What one completed round achieved and cost, the devices' moves included; persisted on the session.
 *
 * @param seconds              the whole round: training, aggregation and evaluation of the new global model
 * @param trainSeconds         from dispatch to the last device's report: the training alone
 * @param measuredStepSeconds  the slowest device's median time of one batch through both halves
 * @param predictedStepSeconds the plan's predicted latency of one step (0 when the session has no plan)
 * @param predictedSeconds     that times the round's steps: the prediction to read beside trainSeconds
 * @param aggregation          where the round was averaged: "flat" (by the session) or the edges and the
 *                             cloud node that did it (hierarchical FedAvg)
 */
public record RoundMetrics(int round, int attempt, double trainLoss, double trainAccuracy, double testAccuracy,
                           double testLoss, double seconds, long bytesUp, long bytesDown, int participants,
                           List<String> failures, List<MoveRecord> moves, double trainSeconds,
                           double measuredStepSeconds, double predictedStepSeconds, double predictedSeconds,
                           String aggregation)
        implements CborSerializable {
    public RoundMetrics {
        failures = List.copyOf(failures);
        moves = moves == null ? List.of() : List.copyOf(moves);
    }
}
