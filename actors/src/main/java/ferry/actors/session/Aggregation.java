package ferry.actors.session;

import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.persistence.ModelRef;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.FedAvg;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.SgdConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The end of a round, off the actor's thread: join each device's halves, let the algorithm aggregate, store the
 * new global model, and evaluate it on the held-out test set.
 */
final class Aggregation {
    private Aggregation() {}

    record Outcome(ModelRef global, double testAccuracy, double testLoss) {}

    static Outcome run(SessionSpec spec, List<DeviceResult> ok, FerryServices services) {
        List<FedAvg.Contribution> contributions = new ArrayList<>();
        for (DeviceResult r : ok) {
            contributions.add(new FedAvg.Contribution(ModelBlobs.join(services.blobs(), r.parts()), r.samples()));
        }
        List<NamedTensor> global = Algorithms.byName(spec.algorithm()).aggregate(contributions);
        ModelRef ref = ModelBlobs.putWeights(services.blobs(), global);
        Evaluator.Score score = evaluate(spec, global, services);
        return new Outcome(ref, score.accuracy(), score.loss());
    }

    static Evaluator.Score evaluate(SessionSpec spec, List<NamedTensor> weights, FerryServices services) {
        ImageDataset test = services.datasets().test(spec.dataset());
        if (spec.testSamples() > 0 && spec.testSamples() < test.size()) {
            test = test.head(spec.testSamples());
        }
        try (MonolithicModel m = new MonolithicModel(spec.modelSpec(), spec.seed(), SgdConfig.DEFAULT)) {
            m.loadWeights(weights, true);
            return Evaluator.evaluate(List.of(m), test, 500);
        }
    }

    /** The initial global model: deterministic for the spec's seed. */
    static ModelRef initial(SessionSpec spec, FerryServices services) {
        try (MonolithicModel m = new MonolithicModel(spec.modelSpec(), spec.seed(), SgdConfig.DEFAULT)) {
            return ModelBlobs.putWeights(services.blobs(), m.weights());
        }
    }
}
