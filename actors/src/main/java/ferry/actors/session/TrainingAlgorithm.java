package ferry.actors.session;

import ferry.persistence.ModelRef;
import ferry.zoo.train.FedAvg;
import ferry.zoo.train.NamedTensor;
import java.util.List;

/**
 * A training algorithm as a plug-in, in the spirit of Flower's Strategy: it says what each participant does in a
 * round and how the round's results become the next global model. The session actor does the rest (dispatch,
 * timeouts, persistence, evaluation), so a new algorithm is one small class.
 */
public interface TrainingAlgorithm {
    String name();

    /** The instruction for one participant of a round. */
    RoundInstruction instruct(String sessionId, SessionSpec spec, String device, int round, int attempt,
                              ModelRef global);

    /**
     * The next global weights from the participants' full weight sets (for split algorithms the client and server
     * halves joined, in canonical order). Blocking; never called on an actor's own thread. Default: FedAvg
     * weighted by samples.
     */
    default List<NamedTensor> aggregate(List<FedAvg.Contribution> contributions) {
        return FedAvg.average(contributions);
    }

    /**
     * Whether participants train one after another, each starting from the model the one before left (vanilla
     * split learning), instead of all at once from the round's global model.
     */
    default boolean sequential() {
        return false;
    }

    /**
     * Whether an edge trains one shared server half for all its devices at once (PSL, EPSL); such sessions are
     * laid out by the resource manager (see {@link SessionPlanner}).
     */
    default boolean parallel() {
        return false;
    }

    /**
     * Whether each round is planned device by device from the devices' batteries, compute and links ("auto":
     * see {@link RoundOrchestrator}) instead of everyone training the same way.
     */
    default boolean orchestrated() {
        return false;
    }

    /** Whether {@link #aggregate} is FedAvg, which can be computed edge by edge and then across edges. */
    default boolean averages() {
        return true;
    }
}
