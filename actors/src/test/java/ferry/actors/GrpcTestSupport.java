package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.device.DeviceTrainer;
import ferry.device.EdgeConnection;
import ferry.grpc.EdgeGrpcServer;
import ferry.grpc.GrpcSettings;
import ferry.grpc.Tokens;
import ferry.ops.Asks;
import ferry.ops.DeviceCommand;
import ferry.zoo.data.Datasets;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Real devices in tests: TLS certificates made by ops/gen-certs, a node's gRPC service bound on a free port,
 * remote devices registered with a token and a data directory written from a simulated device's partition, and
 * device trainers (the client library) run on threads of their own.
 */
final class GrpcTestSupport {
    static final Duration T = Duration.ofSeconds(60);

    private GrpcTestSupport() {}

    /** ops/gen-certs into {@code dir}: ca.pem, edge.pem, edge-key.pem. */
    static Path certs(Path dir) throws IOException, InterruptedException {
        Path script = Path.of("..", "ops", "gen-certs").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("bash", script.toString(), "--out", dir.toString()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "ops/gen-certs failed: " + out);
        return dir;
    }

    /** The node's gRPC service over TLS on a free port, serving {@code edges}. */
    static EdgeGrpcServer.Running serve(FerryNode node, Path certs, List<String> edges) throws Exception {
        GrpcSettings s = GrpcSettings.fromConfig(ConfigFactory.parseMap(java.util.Map.of("ferry.grpc.port", 0,
                "ferry.grpc.cert", certs.resolve("edge.pem").toString(), "ferry.grpc.key",
                certs.resolve("edge-key.pem").toString())).withFallback(node.system().settings().config()));
        return EdgeGrpcServer.start(node, s, edges).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** A one-node cluster config on the test backend, with extra settings on top. */
    static Config nodeConfig(ferry.persistence.TestBackend backend, String extra) {
        return ConfigFactory.parseString(extra).withFallback(SessionIntegrationTest.nodeConfig(backend));
    }

    /** The IID part {@code index} of {@code parts} of Fashion-MNIST's first {@code pool} samples. */
    static DataPartition part(int parts, int index, int pool) {
        return DataPartition.iid(DatasetRegistry.FASHION_MNIST, parts, index, 5, pool);
    }

    /**
     * Registers a real device holding exactly the samples of {@code like} (written to {@code dataDir}), with
     * {@code token}, attached to {@code edge}.
     */
    static void registerRemote(FerryNode node, String id, DataPartition like, Path dataDir, String token,
                               String edge) throws Exception {
        int n = DeviceCommand.write(EntityTestSupport.DATASETS, like, dataDir);
        DataPartition remote = DataPartition.remote(DatasetRegistry.FASHION_MNIST, n);
        Asks.ack(node.services().device(id), r -> new Device.Register(DeviceProfile.DEFAULT, remote,
                Tokens.hash(token), r), T, node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        attach(node, id, edge);
    }

    static void registerSimulated(FerryNode node, String id, DataPartition p, String edge) throws Exception {
        Asks.ack(node.services().device(id), r -> new Device.Register(DeviceProfile.DEFAULT, p, r), T,
                node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        attach(node, id, edge);
    }

    static void attach(FerryNode node, String id, String edge) throws Exception {
        Asks.ack(node.services().device(id), r -> new Device.AttachTo(edge, r), T, node.system().scheduler())
                .toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** A trainer for a registered real device, its data read from {@code dataDir}, logging to stdout. */
    static DeviceTrainer trainer(FerryNode node, String endpoint, String id, String token, Path certs,
                                 Path dataDir) {
        return new DeviceTrainer(node.system(), endpoint, new EdgeConnection.Credentials(id, token,
                certs.resolve("ca.pem")), Datasets.idx(id, dataDir, "train"), m -> System.out.println(id + ": " + m),
                Duration.ofSeconds(30));
    }

    /** Trains {@code rounds} rounds on a thread of its own; the reports, or the failure. */
    static CompletableFuture<List<DeviceTrainer.RoundReport>> train(DeviceTrainer t, int rounds) {
        CompletableFuture<List<DeviceTrainer.RoundReport>> f = new CompletableFuture<>();
        Thread th = new Thread(() -> {
            try {
                List<DeviceTrainer.RoundReport> out = new ArrayList<>();
                while (out.size() < rounds) {
                    DeviceTrainer.RoundReport r = t.trainNext(Duration.ofSeconds(20));
                    if (r != null) {
                        System.out.println(r.line());
                        out.add(r);
                    }
                }
                f.complete(out);
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "device-trainer");
        th.setDaemon(true);
        th.start();
        return f;
    }
}
