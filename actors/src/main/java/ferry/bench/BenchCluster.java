package ferry.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.Algorithms;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.SessionSpec;
import ferry.ops.Asks;
import ferry.ops.NodeProcess;
import ferry.persistence.FerryConfig;
import ferry.persistence.ModelRef;
import ferry.persistence.ScratchDatabase;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.SgdConfig;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A cluster for benchmarks, on loopback: this JVM with edge-1 (and edge-2 unless a second JVM hosts it), one
 * device, on H2 in a temp dir or on a scratch PostgreSQL database. Rounds are driven on the device directly, so
 * what is measured is the device's training, not session bookkeeping.
 */
final class BenchCluster implements AutoCloseable {
    static final Duration T = Duration.ofSeconds(60);
    final FerryNode node;
    final DatasetRegistry datasets;
    private final ScratchDatabase scratch;
    private final NodeProcess second;

    private BenchCluster(FerryNode node, DatasetRegistry datasets, ScratchDatabase scratch, NodeProcess second) {
        this.node = node;
        this.datasets = datasets;
        this.scratch = scratch;
        this.second = second;
    }

    /** One JVM on H2 ({@code twoJvms} false) or two JVMs sharing a scratch PostgreSQL database. */
    static BenchCluster start(DatasetRegistry datasets, boolean twoJvms, Map<String, String> extraConfig)
            throws Exception {
        Config overrides = ConfigFactory.parseMap(Map.of("pekko.remote.artery.canonical.port", "0",
                "ferry.data-dir", Files.createTempDirectory("ferry-bench").toString()))
                .withFallback(ConfigFactory.parseMap(extraConfig));
        ScratchDatabase scratch = twoJvms ? ScratchDatabase.create(overrides, "ferry_bench") : null;
        Config config = twoJvms ? scratch.config() : FerryConfig.load(FerryConfig.Journal.H2, overrides);
        FerryNode node = FerryNode.start("ferry", config, datasets);
        NodeProcess second = null;
        try {
            node.hostEdge("edge-1", 64, T).toCompletableFuture().get(60, TimeUnit.SECONDS);
            if (twoJvms) {
                second = NodeProcess.edgeNode("edge-node", node.address(), scratch.url(), "edge-2", 4, true,
                        extraConfig);
                second.awaitReady(180);
            } else {
                node.hostEdge("edge-2", 64, T).toCompletableFuture().get(60, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            if (second != null) {
                second.close();
            }
            node.close();
            if (scratch != null) {
                scratch.close();
            }
            throw e;
        }
        return new BenchCluster(node, datasets, scratch, second);
    }

    /** Registers dev-1 with {@code samples} samples of {@code dataset} and attaches it to edge-1. */
    void device(String dataset, int samples) throws Exception {
        DataPartition p = DataPartition.iid(dataset, 1, 0, 1, samples);
        get(Asks.ack(node.services().device("dev-1"), r -> new Device.Register(DeviceProfile.DEFAULT, p, r), T,
                node.system().scheduler()));
        attach("edge-1");
    }

    /** Registers dev-1..dev-n, each with {@code samples} samples (IID), all attached to {@code edge}. */
    List<String> devices(int n, String dataset, int samples, String edge) throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "dev-" + (i + 1);
            DataPartition p = DataPartition.iid(dataset, n, i, 1, n * samples);
            get(Asks.ack(node.services().device(id), r -> new Device.Register(DeviceProfile.DEFAULT, p, r), T,
                    node.system().scheduler()));
            get(Asks.ack(node.services().device(id), r -> new Device.AttachTo(edge, r), T,
                    node.system().scheduler()));
            ids.add(id);
        }
        return ids;
    }

    void attach(String edge) throws Exception {
        get(Asks.ack(node.services().device("dev-1"), r -> new Device.AttachTo(edge, r), T,
                node.system().scheduler()));
    }

    /** The initial global model of a spec, in the blob store. */
    ModelRef initialModel(SessionSpec spec) {
        try (MonolithicModel m = new MonolithicModel(spec.modelSpec(), spec.seed(), SgdConfig.DEFAULT)) {
            return ModelBlobs.putWeights(node.services().blobs(), m.weights());
        }
    }

    /** One round of dev-1's SplitFed training under {@code spec} (its scripted moves included). */
    DeviceResult round(String session, SessionSpec spec, int round, ModelRef global) throws Exception {
        attach("edge-1");
        DeviceResult r = get(Asks.<Device.Command, DeviceResult>ask(node.services().device("dev-1"),
                reply -> new Device.TrainRound(Algorithms.SPLITFED.instruct(session, spec, "dev-1", round, 1,
                        global), reply), Duration.ofMinutes(30), node.system().scheduler()));
        if (!r.ok()) {
            throw new IllegalStateException("round failed: " + r.error());
        }
        return r;
    }

    static <T> T get(CompletionStage<T> f) throws Exception {
        return f.toCompletableFuture().get(30, TimeUnit.MINUTES);
    }

    @Override
    public void close() throws Exception {
        if (second != null) {
            second.close();
        }
        node.close();
        if (scratch != null) {
            scratch.close();
        }
    }
}
