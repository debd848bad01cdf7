package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.ops.Asks;
import ferry.ops.NodeProcess;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast failover across JVMs: the device trains with edge-2 in a second JVM; that JVM is killed with SIGKILL
 * mid-round; the device finds its edge's node silent (long before the control node downs it), rebuilds
 * its server half on edge-1 from the last checkpoint, replays the steps since, and the round ends with the same
 * weights as a run without the kill, every batch trained exactly once.
 */
class FailoverTest {
    static final int BATCHES = 40;
    @TempDir
    Path tmp;

    static SessionSpec spec() {
        return new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"), 1, 4, 20, 1,
                0.05f, 1, 500, 300, MigrationMode.FEDFLY, List.of());
    }

    static void attach(FerryNode a, String edge) throws Exception {
        Asks.ack(a.services().device("dev-1"), r -> new Device.AttachTo(edge, r), Duration.ofSeconds(60),
                a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Test
    void aDeviceWhoseEdgeJvmIsKilledTrainsOnElsewhereWithNothingLostOrRepeated() throws Exception {
        try (TestBackend backend = TestBackend.open(Journal.POSTGRES, tmp)) {
            Config config = ConfigFactory.parseString("ferry.ask-timeout = 5s")
                    .withFallback(CrossJvmMigrationTest.controlNode(backend));
            try (FerryNode a = FerryNode.start("ferry", config, EntityTestSupport.DATASETS);
                 NodeProcess b = CrossJvmMigrationTest.edgeJvm(a, backend, "edge-2")) {
                b.awaitReady(120);
                a.hostEdge("edge-1", 4, Duration.ofSeconds(60)).toCompletableFuture().get(60, TimeUnit.SECONDS);
                DataPartition p = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 2, 0, 5, 2 * 20 * BATCHES);
                Asks.ack(a.services().device("dev-1"), r -> new Device.Register(DeviceProfile.DEFAULT, p, r),
                        Duration.ofSeconds(60), a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);

                attach(a, "edge-2");
                SessionIntegrationTest.create(a, "undisturbed", spec());
                TrainingSession.State still = SessionIntegrationTest.awaitEnd(a, "undisturbed");
                assertEquals(TrainingSession.Status.FINISHED, still.status(), still.failure());

                attach(a, "edge-2");
                long before = a.services().metrics().batches();
                SessionIntegrationTest.create(a, "failover", spec());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (a.services().metrics().batches() < before + 8 && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                long atKill = a.services().metrics().batches();
                long killed = System.nanoTime();
                b.kill();
                while (a.services().metrics().batches() <= atKill + 1 && System.nanoTime() < killed
                        + TimeUnit.SECONDS.toNanos(90)) {
                    Thread.sleep(5);
                }
                System.out.printf("edge JVM killed after %d batches; training again %.2f s later%n",
                        atKill - before, (System.nanoTime() - killed) / 1e9);

                TrainingSession.State s = SessionIntegrationTest.awaitEnd(a, "failover");
                assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
                assertEquals(still.global(), s.global(), "the same weights as without the kill");
                assertEquals(LongStream.range(0, BATCHES).boxed().toList(),
                        MigrationTest.batchLog(a, "failover").stream().map(MigrationTest.Logged::cursor).toList(),
                        "every batch exactly once");
                List<MoveRecord> moves = s.history().get(0).moves();
                assertTrue(moves.stream().anyMatch(m -> m.fromEdge().equals("edge-2") && m.toEdge().equals("edge-1")),
                        "the device failed over to edge-1: " + moves);
            }
        }
    }
}
