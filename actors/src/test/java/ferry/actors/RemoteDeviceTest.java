package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.device.Device;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.device.DeviceTrainer;
import ferry.grpc.EdgeGrpcServer;
import ferry.ops.Asks;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.ModelRef;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real device outside the cluster, trained through the client library over gRPC with TLS against a running
 * node whose two edges serve two endpoints: it trains exactly what a simulated device with the same samples
 * trains (split rounds and local rounds: the same global model, bit for bit), and a move mid-round is followed
 * by the client through the old edge's redirect without redoing a batch.
 */
class RemoteDeviceTest {
    @TempDir
    static Path tmp;
    static TestBackend backend;
    static FerryNode node;
    static EdgeGrpcServer.Running edge1;
    static EdgeGrpcServer.Running edge2;
    static Path certs;
    static final String TOKEN = "phone-1-token-0123456789";
    /** 400 samples in batches of 40: 10 steps a round. */
    static final int POOL = 800;
    static final int BATCH = 40;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.open(Journal.H2, tmp);
        node = FerryNode.start("rd", GrpcTestSupport.nodeConfig(backend,
                // every message serialized as if it crossed JVMs: a device's calls reach its entity from any edge
                "ferry.hierarchical-aggregation = off\npekko.actor.serialize-messages = on"),
                EntityTestSupport.DATASETS);
        certs = GrpcTestSupport.certs(tmp.resolve("certs"));
        edge1 = GrpcTestSupport.serve(node, certs, List.of("edge-1"));
        edge2 = GrpcTestSupport.serve(node, certs, List.of("edge-2"));
        node.hostEdge("edge-1", 4, edge1.endpoint(), GrpcTestSupport.T).toCompletableFuture().get(60, TimeUnit.SECONDS);
        node.hostEdge("edge-2", 4, edge2.endpoint(), GrpcTestSupport.T).toCompletableFuture().get(60, TimeUnit.SECONDS);
        GrpcTestSupport.registerSimulated(node, "dev-1", GrpcTestSupport.part(2, 0, POOL), "edge-1");
        GrpcTestSupport.registerRemote(node, "phone-1", GrpcTestSupport.part(2, 0, POOL), tmp.resolve("phone-1"),
                TOKEN, "edge-1");
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
        backend.close();
    }

    static SessionSpec spec(String algorithm, String device, int rounds) {
        return new SessionSpec(algorithm, "vgg5", DatasetRegistry.FASHION_MNIST, List.of(device), rounds, 4, BATCH,
                1, 0.05f, 1, 500, 120);
    }

    static TrainingSession.State run(String id, SessionSpec spec) throws Exception {
        return run(id, spec, null);
    }

    /** Runs a session; a device trainer that fails meanwhile fails the test at once, with its error. */
    static TrainingSession.State run(String id, SessionSpec spec, java.util.concurrent.Future<?> trainer)
            throws Exception {
        return runOn(node, id, spec, trainer);
    }

    static TrainingSession.State runOn(FerryNode node, String id, SessionSpec spec,
                                       java.util.concurrent.Future<?> trainer) throws Exception {
        SessionIntegrationTest.create(node, id, spec);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            TrainingSession.State s = SessionIntegrationTest.get(node, id);
            if (s.status() == TrainingSession.Status.FINISHED || s.status() == TrainingSession.Status.FAILED) {
                assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
                return s;
            }
            if (trainer != null && trainer.isDone()) {
                trainer.get(); // throws the trainer's failure, if it failed
            }
            Thread.sleep(100);
        }
        throw new AssertionError("session " + id + " did not end within 3 minutes");
    }

    DeviceTrainer phone() {
        return GrpcTestSupport.trainer(node, edge1.endpoint(), "phone-1", TOKEN, certs, tmp.resolve("phone-1"));
    }

    @Test
    void splitRoundsOverGrpcTrainTheSameModelAsASimulatedDevice() throws Exception {
        ModelRef simulated = run("sim-split", spec("splitfed", "dev-1", 2)).global();
        try (DeviceTrainer t = phone()) {
            var reports = GrpcTestSupport.train(t, 2);
            TrainingSession.State real = run("real-split", spec("splitfed", "phone-1", 2), reports);
            List<DeviceTrainer.RoundReport> r = reports.get(60, TimeUnit.SECONDS);
            assertEquals(simulated, real.global(), "the same weights, bit for bit, after the same steps");
            assertEquals(List.of(10L, 10L), r.stream().map(DeviceTrainer.RoundReport::batches).toList());
            assertTrue(real.history().get(1).bytesUp() > 0, "activations went up over gRPC");
        }
    }

    @Test
    void localRoundsOverGrpcTrainTheSameModelAsASimulatedDevice() throws Exception {
        ModelRef simulated = run("sim-avg", spec("fedavg", "dev-1", 1)).global();
        try (DeviceTrainer t = phone()) {
            var reports = GrpcTestSupport.train(t, 1);
            TrainingSession.State real = run("real-avg", spec("fedavg", "phone-1", 1), reports);
            assertEquals(10, reports.get(60, TimeUnit.SECONDS).get(0).batches());
            assertEquals(0, real.history().get(0).bytesUp(), "weights only, no activations");
            assertEquals(simulated, real.global(), "pulled whole, trained locally, pushed whole: the same model");
        }
    }

    @Test
    void aMoveMidRoundIsFollowedThroughTheRedirectAndChangesNothing() throws Exception {
        ModelRef still = run("sim-still", spec("splitfed", "dev-1", 1)).global();
        try (DeviceTrainer t = phone()) {
            // After step 3 the device is moved to edge-2 (as an operator's POST /devices/phone-1/move does); the
            // trainer does not know: its next step goes to edge-1, which redirects it.
            t.onStep((a, cursor, epoch) -> {
                if (cursor == 3) {
                    try {
                        Asks.ack(node.services().device("phone-1"), r -> new Device.MoveTo("edge-2", r),
                                GrpcTestSupport.T, node.system().scheduler()).toCompletableFuture()
                                .get(60, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError("the move was refused", e);
                    }
                }
            });
            var reports = GrpcTestSupport.train(t, 1);
            TrainingSession.State moved = run("real-moved", spec("splitfed", "phone-1", 1), reports);
            DeviceTrainer.RoundReport r = reports.get(60, TimeUnit.SECONDS).get(0);
            assertEquals(1, r.redirects(), "one redirect, from edge-1's endpoint to edge-2's");
            assertEquals("edge-2", r.edgeId());
            assertEquals(still, moved.global(), "the hand-off changed nothing but where the server half ran");
            List<String> log = MigrationTest.events(node, "Device|phone-1").stream()
                    .filter(e -> e instanceof Device.BatchesDone b && b.sessionId().equals("real-moved"))
                    .map(e -> (Device.BatchesDone) e).map(b -> b.from() + "-" + b.to() + "@" + b.edgeId()).toList();
            assertEquals(List.of("0-4@edge-1", "4-10@edge-2"), log, "every batch once: 0-3 on edge-1, the rest on edge-2");
            assertEquals(1, moved.history().get(0).moves().size());
        } finally {
            GrpcTestSupport.attach(node, "phone-1", "edge-1");
        }
    }
}
