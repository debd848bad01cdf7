package ferry.actors.session;

import ferry.persistence.ModelRef;
import ferry.zoo.train.FedAvg;
import ferry.zoo.train.NamedTensor;
import java.util.List;
import java.util.Map;

/** The algorithms a session can run, by name. */
public final class Algorithms {
    /**
     * An algorithm whose participants all train the same way every round: the whole model locally, or split at
     * the session's cut with their edge.
     */
    record FixedPlacement(String name, boolean offloaded, boolean parallel, boolean aggregates)
            implements TrainingAlgorithm {
        public RoundInstruction instruct(String sessionId, SessionSpec s, String device, int round, int attempt,
                                         ModelRef global) {
            return new RoundInstruction(sessionId, round, attempt, offloaded, s.model(), s.dataset(), s.cut(),
                    s.batchSize(), s.localEpochs(), s.learningRate(), s.seed(), global, s.migration(),
                    parallel ? List.of() : s.movesOf(device, round), parallel, aggregates ? s.phi() : 0,
                    s.options().selector(), s.options().selectionFraction());
        }
    }

    /** Devices train the whole model on their own data; the session averages (McMahan et al.). */
    public static final TrainingAlgorithm FEDAVG = new FixedPlacement("fedavg", false, false, false);

    /**
     * SplitFed / FedFly-style offloading: each device trains the layers before the cut and its edge the rest,
     * one batch at a time; at round end client and server halves are averaged, weighted by samples.
     */
    public static final TrainingAlgorithm SPLITFED = new FixedPlacement("splitfed", true, false, false);

    /**
     * Parallel split learning: all devices of an edge train their client halves in parallel against one shared
     * server half, step by step; client halves are averaged at round end.
     */
    public static final TrainingAlgorithm PSL = new FixedPlacement("psl", true, true, false);

    /** EPSL: PSL whose edge aggregates the last-layer gradients of a fraction phi of each batch across devices. */
    public static final TrainingAlgorithm EPSL = new FixedPlacement("epsl", true, true, true);

    /**
     * Vanilla split learning: devices take turns, each training its partition split with its edge from the
     * model the previous device left; the round's model is the last one's.
     */
    public static final TrainingAlgorithm SL = new SplitFedVariant("sl") {
        public List<NamedTensor> aggregate(List<FedAvg.Contribution> contributions) {
            return contributions.get(contributions.size() - 1).params();
        }

        public boolean averages() {
            return false;
        }

        public boolean sequential() {
            return true;
        }
    };

    /**
     * "auto": the platform decides, round by round, which devices take part (battery, deadline), which edge each
     * attaches to, and whether it trains locally or offloads at which cut; the results are averaged (FedAvg of the
     * whole models). {@link #instruct} here is one participant's default; the session instructs from the plan.
     */
    public static final TrainingAlgorithm AUTO = new SplitFedVariant("auto") {
        public boolean orchestrated() {
            return true;
        }
    };

    /** An algorithm whose participants are instructed as SplitFed's and that differs elsewhere. */
    private static class SplitFedVariant implements TrainingAlgorithm {
        private final String name;

        SplitFedVariant(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public RoundInstruction instruct(String sessionId, SessionSpec s, String device, int round, int attempt,
                                         ModelRef global) {
            return SPLITFED.instruct(sessionId, s, device, round, attempt, global);
        }
    }

    private static final Map<String, TrainingAlgorithm> ALL = Map.of(FEDAVG.name(), FEDAVG, SPLITFED.name(),
            SPLITFED, PSL.name(), PSL, EPSL.name(), EPSL, SL.name(), SL, AUTO.name(), AUTO);

    private Algorithms() {}

    public static List<String> names() {
        return ALL.keySet().stream().sorted().toList();
    }

    public static TrainingAlgorithm byName(String name) {
        TrainingAlgorithm a = ALL.get(name);
        if (a == null) {
            throw new IllegalArgumentException("unknown algorithm '" + name + "'; known: " + names());
        }
        return a;
    }
}
