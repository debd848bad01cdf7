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
import ferry.actors.cloud.CloudAggregator;
import ferry.actors.edge.RoundMaster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The end of a round, off the actor's thread: join each device's halves, let the algorithm aggregate, store the
 * new global model, and evaluate it on the held-out test set.
 */
final class Aggregation {
    private Aggregation() {}

    record Outcome(ModelRef global, double testAccuracy, double testLoss, String how) {}

    static Outcome run(SessionSpec spec, List<DeviceResult> ok, FerryServices services) {
        List<FedAvg.Contribution> contributions = new ArrayList<>();
        for (DeviceResult r : ok) {
            contributions.add(new FedAvg.Contribution(ModelBlobs.join(services.blobs(), r.parts()), r.samples()));
        }
        List<NamedTensor> global = Algorithms.byName(spec.algorithm()).aggregate(contributions);
        ModelRef ref = ModelBlobs.putWeights(services.blobs(), global);
        Evaluator.Score score = evaluate(spec, global, services);
        return new Outcome(ref, score.accuracy(), score.loss(), "flat");
    }

    /**
     * Hierarchical FedAvg: each edge's round master averages the updates that came through it (on the edge's
     * node), the session's cloud aggregator averages the edges (on a cloud node), and the result is evaluated
     * here. Weighted by samples at both levels, so the model is the flat average up to float rounding.
     */
    static CompletionStage<Outcome> hierarchical(String sessionId, int round, SessionSpec spec, List<DeviceResult> ok,
                                                 FerryServices services, ActorSystem<?> system) {
        Map<String, List<CloudAggregator.Contribution>> byEdge = new TreeMap<>();
        for (DeviceResult r : ok) {
            byEdge.computeIfAbsent(r.edgeId(), e -> new ArrayList<>())
                    .add(new CloudAggregator.Contribution(r.deviceId(), r.parts(), r.samples()));
        }
        List<CompletableFuture<CloudAggregator.EdgeModel>> edges = new ArrayList<>();
        List<String> stoodIn = java.util.Collections.synchronizedList(new ArrayList<>());
        byEdge.forEach((edge, devices) -> edges.add(AskPattern.<RoundMaster.Command, CloudAggregator.EdgeModel>
                askWithStatus(services.roundMaster(sessionId, edge), r -> new RoundMaster.AggregateEdge(round, devices,
                        r), services.askTimeout(), system.scheduler()).toCompletableFuture()
                // An edge that died after its devices reported (their updates are in the blob store) must not
                // cost the round: the session averages that edge's share itself.
                .exceptionallyCompose(err -> {
                    stoodIn.add(edge);
                    return CompletableFuture.supplyAsync(() -> new CloudAggregator.EdgeModel(edge,
                            CloudAggregator.average(services, devices),
                            devices.stream().mapToLong(CloudAggregator.Contribution::samples).sum()),
                            services.blockingExecutor());
                })));
        return CompletableFuture.allOf(edges.toArray(CompletableFuture[]::new))
                .thenCompose(x -> AskPattern.<CloudAggregator.Command, CloudAggregator.Result>askWithStatus(
                        services.cloud(sessionId), r -> new CloudAggregator.Aggregate(round,
                                edges.stream().map(CompletableFuture::join).toList(), r),
                        services.askTimeout(), system.scheduler()))
                .thenApplyAsync(res -> {
                    Evaluator.Score score = evaluate(spec, ModelBlobs.getWeights(services.blobs(), res.model()),
                            services);
                    return new Outcome(res.model(), score.accuracy(), score.loss(), "hierarchical: "
                            + byEdge.size() + " edge(s) " + byEdge.keySet() + ", then the cloud at "
                            + res.aggregatedAt() + (stoodIn.isEmpty() ? ""
                                    : "; the session stood in for unreachable " + stoodIn));
                }, services.blockingExecutor())
                // No cloud node answered: the flat average is the same model.
                .exceptionallyCompose(err -> CompletableFuture.supplyAsync(() -> {
                    Outcome o = run(spec, ok, services);
                    return new Outcome(o.global(), o.testAccuracy(), o.testLoss(), "flat (the cloud did not answer: "
                            + err.getMessage() + ")");
                }, services.blockingExecutor()));
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
