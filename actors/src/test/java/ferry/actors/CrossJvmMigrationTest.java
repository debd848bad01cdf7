package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.node.NodeHealth;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.SessionSpec;
import ferry.persistence.ModelRef;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MobilityEvent;
import ferry.actors.session.TrainingSession;
import ferry.ops.Asks;
import ferry.ops.NodeProcess;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration that crosses JVMs: edge-1 lives in this JVM, edge-2 in a second JVM on loopback, PostgreSQL is
 * the shared journal. The device moves mid-round; the server half is taken over in the other JVM and the round
 * ends with the same weights as a run without the move.
 */
class CrossJvmMigrationTest {
    @TempDir
    Path tmp;

    static Config controlNode(TestBackend backend) {
        return ConfigFactory.parseString("pekko.actor.provider = cluster\n"
                + "pekko.remote.artery.canonical.port = 0").withFallback(backend.config);
    }

    /** A second JVM on loopback that joins {@code a} and hosts edge-2, on the same PostgreSQL database. */
    static NodeProcess edgeJvm(FerryNode a, TestBackend backend) throws Exception {
        return edgeJvm(a, backend, "edge-2");
    }

    static NodeProcess edgeJvm(FerryNode a, TestBackend backend, String edge) throws Exception {
        return NodeProcess.edgeNode("node-" + edge, a.address(), backend.config.getString("ferry.db.url"), edge, 4,
                false, Map.of());
    }

    /** Registers dev-1 alone and runs its one-round session without a move: the model a move must reproduce. */
    static ModelRef deviceAndStillRun(FerryNode a) throws Exception {
        DataPartition p = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 2, 0, 5, 800);
        Asks.ack(a.services().device("dev-1"), r -> new Device.Register(DeviceProfile.DEFAULT, p, r),
                Duration.ofSeconds(60), a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        return MigrationTest.run(a, "still", oneDevice(List.of())).global();
    }

    static SessionSpec oneDevice(List<MobilityEvent> moves) {
        return new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"), 1, 4, 40, 1,
                0.05f, 1, 500, 120, MigrationMode.FEDFLY, moves);
    }

    @Test
    void aDeviceMovesToAnEdgeInAnotherJvm() throws Exception {
        try (TestBackend backend = TestBackend.open(Journal.POSTGRES, tmp)) {
            try (FerryNode a = FerryNode.start("ferry", controlNode(backend), EntityTestSupport.DATASETS)) {
                try (NodeProcess b = edgeJvm(a, backend)) {
                    String bAddress = b.awaitReady(120);
                    Duration t = Duration.ofSeconds(60);
                    a.hostEdge("edge-1", 4, t).toCompletableFuture().get(60, TimeUnit.SECONDS);
                    for (int i = 0; i < 2; i++) {
                        String id = "dev-" + (i + 1);
                        DataPartition p = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 2, i, 5, 800);
                        Asks.ack(a.services().device(id), r -> new Device.Register(DeviceProfile.DEFAULT, p, r), t,
                                a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
                    }
                    Asks.ack(a.services().device("dev-2"), r -> new Device.AttachTo("edge-2", r), t,
                            a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);

                    TrainingSession.State still = MigrationTest.run(a, "still",
                            MigrationTest.spec(MigrationMode.FEDFLY, List.of()));
                    TrainingSession.State moved = MigrationTest.run(a, "moved", MigrationTest.spec(
                            MigrationMode.FEDFLY, List.of(new MobilityEvent("dev-1", 1, 5, "edge-2"))));
                    assertEquals(still.global(), moved.global(), "same weights as without the move");
                    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L),
                            MigrationTest.batchLog(a, "moved").stream().map(MigrationTest.Logged::cursor).toList());

                    List<Object> source = MigrationTest.events(a, "OffloadedTraining|"
                            + OffloadedTraining.entityId("moved", "dev-1", "edge-1"));
                    List<Object> target = MigrationTest.events(a, "OffloadedTraining|"
                            + OffloadedTraining.entityId("moved", "dev-1", "edge-2"));
                    OffloadedTraining.RoundBegun begun = (OffloadedTraining.RoundBegun) source.get(0);
                    OffloadedTraining.TookOver took = (OffloadedTraining.TookOver) target.get(0);
                    assertEquals(a.address().toString(), begun.node(), "the round began in this JVM");
                    assertEquals(bAddress, took.node(), "and was taken over in the other JVM");
                    assertNotEquals(begun.node(), took.node());
                    assertEquals(5, took.handoff().lastCursor());
                }
            }
        }
    }

    @Test
    void aMoveToAnEdgeWhoseJvmDiedIsRefusedAndTrainingGoesOn() throws Exception {
        try (TestBackend backend = TestBackend.open(Journal.POSTGRES, tmp)) {
            try (FerryNode a = FerryNode.start("ferry", controlNode(backend), EntityTestSupport.DATASETS);
                 NodeProcess b = edgeJvm(a, backend)) {
                String bAddress = b.awaitReady(120);
                Duration t = Duration.ofSeconds(60);
                a.hostEdge("edge-1", 4, t).toCompletableFuture().get(60, TimeUnit.SECONDS);
                ModelRef stillGlobal = deviceAndStillRun(a);

                b.kill(); // SIGKILL: the node vanishes without leaving the cluster
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (NodeHealth.problem(a.system(), bAddress) == null && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                assertNotNull(NodeHealth.problem(a.system(), bAddress), "the node is seen gone");

                SessionSpec moving = oneDevice(List.of(new MobilityEvent("dev-1", 1, 5, "edge-2")));
                TrainingSession.State s = MigrationTest.run(a, "dead", moving);
                assertEquals(stillGlobal, s.global(), "the device trained on at edge-1, undisturbed");
                MoveRecord move = s.history().get(0).moves().get(0);
                assertTrue(move.error() != null && move.error().contains("cannot take devices: its node")
                        && (move.error().contains("unreachable") || move.error().contains("has not answered")),
                        String.valueOf(move)); // silent to Ferry's probe, or unreachable to the failure detector
                assertEquals(10, MigrationTest.batchLog(a, "dead").size());
            }
        }
    }

    /**
     * Three JVMs: this one runs the device and the session, edge-1 and edge-2 each run in a JVM of their own. The
     * moment edge-2 admits the moving device, edge-1's JVM is killed (SIGKILL), in the middle of the hand-off.
     * Whether the old edge had already handed its state over or not, the round ends with the same weights as a
     * run without the move and every batch trained once.
     */
    @Test
    void theSourceJvmKilledDuringTheHandOffLosesNothing() throws Exception {
        try (TestBackend backend = TestBackend.open(Journal.POSTGRES, tmp)) {
            Config config = ConfigFactory.parseString("ferry.ask-timeout = 3s").withFallback(controlNode(backend));
            try (FerryNode a = FerryNode.start("ferry", config, EntityTestSupport.DATASETS);
                 NodeProcess e1 = edgeJvm(a, backend, "edge-1");
                 NodeProcess e2 = edgeJvm(a, backend, "edge-2")) {
                e1.awaitReady(120);
                e2.awaitReady(120);
                Duration t = Duration.ofSeconds(60);
                ModelRef stillGlobal = deviceAndStillRun(a);

                SessionSpec moving = oneDevice(List.of(new MobilityEvent("dev-1", 1, 5, "edge-2")));
                Asks.ack(a.services().device("dev-1"), r -> new Device.AttachTo("edge-1", r), t,
                        a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
                SessionIntegrationTest.create(a, "killed", moving);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (System.nanoTime() < deadline) {
                    EdgeServer.State edge2 = Asks.<EdgeServer.Command, EdgeServer.State>ask(a.services().edge("edge-2"),
                            EdgeServer.Get::new, t, a.system().scheduler()).toCompletableFuture().get(60,
                            TimeUnit.SECONDS);
                    if (edge2.devices().contains("dev-1")) {
                        break;
                    }
                    Thread.sleep(5);
                }
                e1.kill();
                TrainingSession.State s = SessionIntegrationTest.awaitEnd(a, "killed");
                assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
                assertEquals(stillGlobal, s.global(), "no loss: the same weights as without the move");
                assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L),
                        MigrationTest.batchLog(a, "killed").stream().map(MigrationTest.Logged::cursor).toList(),
                        "no duplicate batch");
            }
        }
    }
}
