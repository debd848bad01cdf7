package ferry.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.Algorithms;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.SessionSpec;
import ferry.ops.Args;
import ferry.persistence.FerryConfig;
import ferry.persistence.ModelRef;
import ferry.actors.node.ModelBlobs;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.SgdConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import ferry.ops.Asks;

/**
 * The split step through the actors (Device -> OffloadedTraining -> Device, every message serialized with CBOR
 * as it would be between nodes) against the monolithic DJL step on the same model, batches and process.
 */
final class ActorStepBench {
    static final Set<String> OPTIONS = Set.of("batch", "batches", "rounds");

    private ActorStepBench() {}

    static Map<String, Object> run(Args a) throws Exception {
        int batch = a.integer("batch", 100, 1, 4096);
        int batches = a.integer("batches", 60, 2, 600);
        int rounds = a.integer("rounds", 3, 1, 100);
        Path dir = Files.createTempDirectory("ferry-bench");
        // The overrides go into load: the database URL is built from ferry.data-dir when the config is resolved,
        // so a data-dir laid over the loaded config afterwards would leave the benchmark writing to ./run/data.
        Config config = FerryConfig.load(FerryConfig.Journal.H2, ConfigFactory.parseMap(Map.of(
                "pekko.actor.serialize-messages", "on",
                "pekko.remote.artery.canonical.port", "0",
                "ferry.data-dir", dir.toString())));
        DatasetRegistry datasets = new DatasetRegistry();
        ImageDataset train = datasets.train(DatasetRegistry.FASHION_MNIST);
        int samples = batch * batches;
        DataPartition part = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 1, 0, 1, samples);
        SessionSpec spec = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"),
                1, 4, batch, 1, 0.01f, 1, 0, 600);
        double actorSeconds = 0;
        double monoSeconds = 0;
        try (FerryNode node = FerryNode.start("bench", config, datasets)) {
            var svc = node.services();
            var sch = node.system().scheduler();
            Duration t = Duration.ofSeconds(60);
            get(node.hostEdge("edge-1", 1, t));
            get(Asks.ack(svc.device("dev-1"), r -> new Device.Register(DeviceProfile.DEFAULT, part,
                    r), t, sch));
            get(Asks.ack(svc.device("dev-1"), r -> new Device.AttachTo("edge-1", r), t, sch));
            ModelSpec model = spec.modelSpec();
            ModelRef global;
            try (MonolithicModel init = new MonolithicModel(model, 1, SgdConfig.DEFAULT)) {
                global = ModelBlobs.putWeights(svc.blobs(), init.weights());
            }
            int[] indices = datasets.partition(part);
            // round 0 warms up both paths; rounds 1.. are measured, alternating actor and monolithic.
            for (int r = 0; r <= rounds; r++) {
                int round = r + 1;
                DeviceResult res = get(Asks.ask(svc.device("dev-1"), reply -> new Device.TrainRound(
                        Algorithms.SPLITFED.instruct("bench", spec, "dev-1", round, 1, global), reply),
                        Duration.ofMinutes(10), sch));
                if (!res.ok()) {
                    throw new IllegalStateException("actor round failed: " + res.error());
                }
                double mono;
                try (MonolithicModel m = new MonolithicModel(model, 1, SgdConfig.DEFAULT)) {
                    BatchPlan plan = new BatchPlan(indices, batch, 7919L + round);
                    long t0 = System.nanoTime();
                    for (int k = 0; k < plan.batchesPerEpoch(); k++) {
                        m.step(train.batch(plan.batch(k)));
                    }
                    mono = (System.nanoTime() - t0) / 1e9;
                }
                System.out.printf("round %d%s: actors %.2fs, monolithic %.2fs for %d samples%n", r,
                        r == 0 ? " (warm-up)" : "", res.trainSeconds(), mono, samples);
                if (r > 0) {
                    actorSeconds += res.trainSeconds();
                    monoSeconds += mono;
                }
            }
        }
        double actor = rounds * samples / actorSeconds;
        double mono = rounds * samples / monoSeconds;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "vgg5");
        out.put("batch", batch);
        out.put("steps", rounds * batches);
        out.put("serialize_messages", true);
        out.put("actor_samples_per_s", SplitStepBench.round(actor));
        out.put("mono_samples_per_s", SplitStepBench.round(mono));
        out.put("ratio", Math.round(actor / mono * 1000) / 1000.0);
        return out;
    }

    static <T> T get(java.util.concurrent.CompletionStage<T> f) throws Exception {
        return f.toCompletableFuture().get(10, TimeUnit.MINUTES);
    }
}
