package ferry.actors.session;

import ferry.actors.node.DatasetRegistry;
import ferry.persistence.CborSerializable;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import java.util.HashSet;
import java.util.List;

/**
 * One learning task: which algorithm trains which model on which devices, for how many rounds. Validated when
 * made, so a session never starts with a spec it cannot run.
 *
 * @param localEpochs  passes over its partition each device makes per round
 * @param testSamples  held-out samples the session evaluates the global model on each round (0 = all)
 * @param roundTimeoutSeconds  devices that have not reported by then are left out of that round
 * @param migration  what a move does to the edge-side state (FedFly hand-off, or the restart baseline)
 * @param mobility   scripted moves (may be empty); moves can also be triggered at run time
 * @param phi        EPSL: the fraction of each batch whose last-layer gradients the edge aggregates across
 *                   devices (0 is plain parallel split learning)
 * @param planning   parallel sessions: the spec's cut with an equal radio split, or the resource manager's plan
 *                   (see {@link Planning}); null means FIXED
 * @param options    a submitted task's target accuracy, deadline, battery threshold and data selection; null
 *                   means none
 */
public record SessionSpec(String algorithm, String model, String dataset, List<String> devices, int rounds,
                          int cut, int batchSize, int localEpochs, float learningRate, long seed, int testSamples,
                          int roundTimeoutSeconds, MigrationMode migration, List<MobilityEvent> mobility,
                          double phi, Planning planning, TaskOptions options) implements CborSerializable {

    /** A session with no task options. */
    public SessionSpec(String algorithm, String model, String dataset, List<String> devices, int rounds, int cut,
                       int batchSize, int localEpochs, float learningRate, long seed, int testSamples,
                       int roundTimeoutSeconds, MigrationMode migration, List<MobilityEvent> mobility, double phi,
                       Planning planning) {
        this(algorithm, model, dataset, devices, rounds, cut, batchSize, localEpochs, learningRate, seed,
                testSamples, roundTimeoutSeconds, migration, mobility, phi, planning, TaskOptions.NONE);
    }

    /** A session laid out at its own cut (FIXED planning). */
    public SessionSpec(String algorithm, String model, String dataset, List<String> devices, int rounds, int cut,
                       int batchSize, int localEpochs, float learningRate, long seed, int testSamples,
                       int roundTimeoutSeconds, MigrationMode migration, List<MobilityEvent> mobility, double phi) {
        this(algorithm, model, dataset, devices, rounds, cut, batchSize, localEpochs, learningRate, seed,
                testSamples, roundTimeoutSeconds, migration, mobility, phi, Planning.FIXED);
    }

    /** A session with the given migration mode and moves, and phi 0. */
    public SessionSpec(String algorithm, String model, String dataset, List<String> devices, int rounds, int cut,
                       int batchSize, int localEpochs, float learningRate, long seed, int testSamples,
                       int roundTimeoutSeconds, MigrationMode migration, List<MobilityEvent> mobility) {
        this(algorithm, model, dataset, devices, rounds, cut, batchSize, localEpochs, learningRate, seed,
                testSamples, roundTimeoutSeconds, migration, mobility, 0);
    }

    /** A session with FedFly migration and no scripted moves. */
    public SessionSpec(String algorithm, String model, String dataset, List<String> devices, int rounds, int cut,
                       int batchSize, int localEpochs, float learningRate, long seed, int testSamples,
                       int roundTimeoutSeconds) {
        this(algorithm, model, dataset, devices, rounds, cut, batchSize, localEpochs, learningRate, seed,
                testSamples, roundTimeoutSeconds, MigrationMode.FEDFLY, List.of(), 0);
    }

    public SessionSpec {
        devices = List.copyOf(devices);
        mobility = mobility == null ? List.of() : List.copyOf(mobility);
        migration = migration == null ? MigrationMode.FEDFLY : migration;
        planning = planning == null ? Planning.FIXED : planning;
        options = options == null ? TaskOptions.NONE : options;
        if (!(phi >= 0 && phi <= 1)) {
            throw new IllegalArgumentException("phi must be in [0, 1], got " + phi);
        }
        for (MobilityEvent m : mobility) {
            if (!devices.contains(m.device())) {
                throw new IllegalArgumentException("scripted move for '" + m.device() + "', which is not in the "
                        + "session");
            }
            if (m.round() > rounds) {
                throw new IllegalArgumentException("scripted move in round " + m.round() + " of a " + rounds
                        + "-round session");
            }
        }
        Algorithms.byName(algorithm);
        DatasetRegistry.checkName(dataset);
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("a session needs at least one device");
        }
        if (new HashSet<>(devices).size() != devices.size()) {
            throw new IllegalArgumentException("a device may take part only once: " + devices);
        }
        if (rounds < 1 || rounds > 100_000) {
            throw new IllegalArgumentException("rounds must be in 1..100000, got " + rounds);
        }
        if (batchSize < 1 || localEpochs < 1 || testSamples < 0 || roundTimeoutSeconds < 1) {
            throw new IllegalArgumentException("batch size, local epochs and round timeout must be positive and "
                    + "test samples >= 0");
        }
        if (!(learningRate > 0) || !Float.isFinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
        modelSpec(model, dataset).checkCut(cut);
    }

    /** The same session split at another cut: what a plan's chosen cut makes of the spec. */
    public SessionSpec withCut(int newCut) {
        return new SessionSpec(algorithm, model, dataset, devices, rounds, newCut, batchSize, localEpochs,
                learningRate, seed, testSamples, roundTimeoutSeconds, migration, mobility, phi, planning, options);
    }

    public ModelSpec modelSpec() {
        return modelSpec(model, dataset);
    }

    static ModelSpec modelSpec(String model, String dataset) {
        return ModelSpecs.byName(model, DatasetRegistry.sampleShape(dataset), 10);
    }

    /** The scripted moves of one device in one round, in batch order. */
    public List<MobilityEvent> movesOf(String device, int round) {
        return mobility.stream().filter(m -> m.device().equals(device) && m.round() == round)
                .sorted(java.util.Comparator.comparingLong(MobilityEvent::atBatch)).toList();
    }
}
