package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.node.NodeHealth;
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
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edge that is only cut off, not dead: edge-2's JVM is frozen (SIGSTOP) mid-round with a step in hand, as a
 * partition or a long pause would leave it. The device fails over to edge-1 on the silence, long before the node
 * could be downed; edge-2 then wakes up (SIGCONT) with its stale half and the step it never answered, rejoins as
 * the same member, and the device moves back to it. The woken edge's late work never reaches the device's
 * training: the round ends with the undisturbed model and every batch logged once, and edge-2's half was
 * re-established under the device's newer attachment epoch.
 */
class PartitionFencingTest {
    /** Batches per round; two rounds, so the move back lands whether the first round is over by then or not. */
    static final int BATCHES = 150;
    static final Duration T = Duration.ofSeconds(60);
    @TempDir
    Path tmp;

    static SessionSpec spec() {
        return new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"), 2, 4, 20, 1,
                0.05f, 1, 500, 300, MigrationMode.FEDFLY, List.of());
    }

    @Test
    void anEdgeThatWasOnlyCutOffIsFencedOffAndServesAgainAfterwards() throws Exception {
        try (TestBackend backend = TestBackend.open(Journal.POSTGRES, tmp)) {
            try (FerryNode a = FerryNode.start("ferry", ConfigFactory.parseString("ferry.ask-timeout = 5s")
                    .withFallback(CrossJvmMigrationTest.controlNode(backend)), EntityTestSupport.DATASETS);
                 NodeProcess b = CrossJvmMigrationTest.edgeJvm(a, backend, "edge-2")) {
                String bAddress = b.awaitReady(120);
                a.hostEdge("edge-1", 4, T).toCompletableFuture().get(60, TimeUnit.SECONDS);
                DataPartition p = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 2, 0, 5, 2 * 20 * BATCHES);
                Asks.ack(a.services().device("dev-1"), r -> new Device.Register(DeviceProfile.DEFAULT, p, r), T,
                        a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);

                FailoverTest.attach(a, "edge-2");
                SessionIntegrationTest.create(a, "undisturbed", spec());
                TrainingSession.State still = SessionIntegrationTest.awaitEnd(a, "undisturbed");
                assertEquals(TrainingSession.Status.FINISHED, still.status(), still.failure());

                FailoverTest.attach(a, "edge-2");
                long epochBefore = device(a).epoch();
                long before = a.services().metrics().batches();
                SessionIntegrationTest.create(a, "cut-off", spec());
                awaitBatches(a, before + 8, 120);
                long atFreeze = a.services().metrics().batches();
                long frozen = System.nanoTime();
                b.freeze();
                try {
                    awaitBatches(a, atFreeze + 2, 60);
                    System.out.printf("edge-2 frozen after %d batches; the device trains again %.2f s later%n",
                            atFreeze - before, (System.nanoTime() - frozen) / 1e9);
                    // Frozen long enough for the cluster's failure detector to see it too, well short of the
                    // downing's 10 s: the node comes back as the same member.
                    Thread.sleep(Math.max(0, 7000 - (System.nanoTime() - frozen) / 1_000_000));
                } finally {
                    b.thaw();
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (NodeHealth.problem(a.system(), bAddress) != null && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertNull(NodeHealth.problem(a.system(), bAddress), "edge-2's node serves again");

                StatusReply<?> back = null;
                while (System.nanoTime() < deadline && (back == null || back.isError())) {
                    back = AskPattern.<Device.Command, StatusReply<org.apache.pekko.Done>>ask(a.services()
                                    .device("dev-1"), r -> new Device.MoveTo("edge-2", r), T, a.system().scheduler())
                            .toCompletableFuture().get(60, TimeUnit.SECONDS);
                    if (back.isError()) {
                        Thread.sleep(200);
                    }
                }
                assertTrue(back.isSuccess(), "the device moved back to the woken edge: " + back);

                TrainingSession.State s = SessionIntegrationTest.awaitEnd(a, "cut-off");
                assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
                List<MoveRecord> moves = s.history().get(0).moves();
                assertTrue(moves.stream().anyMatch(m -> m.fromEdge().equals("edge-2") && m.toEdge().equals("edge-1")),
                        "failed over while edge-2 was cut off: " + moves);
                assertEquals(still.global(), s.global(), "the same weights as without the partition");
                List<MigrationTest.Logged> log = MigrationTest.batchLog(a, "cut-off");
                List<Long> once = LongStream.range(0, BATCHES).boxed().toList();
                assertEquals(java.util.stream.Stream.concat(once.stream(), once.stream()).toList(),
                        log.stream().map(MigrationTest.Logged::cursor).toList(), "every batch of both rounds once");
                assertEquals("edge-2", log.get(log.size() - 1).edgeId(),
                        "the device trained on the woken edge again (moved back mid-round or between rounds)");

                long epoch = device(a).epoch();
                assertTrue(epoch > epochBefore, "the failover raised the epoch: " + epochBefore + " -> " + epoch);
                OffloadedTraining.State woken = AskPattern.<OffloadedTraining.Command, OffloadedTraining.State>ask(
                        a.services().offloaded("cut-off", "dev-1", "edge-2"), OffloadedTraining.Get::new, T,
                        a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
                assertEquals(epoch, woken.epoch(), "edge-2's half was re-established at the device's epoch");
                Member member = java.util.stream.StreamSupport.stream(Cluster.get(a.system()).state().getMembers()
                        .spliterator(), false).filter(m -> m.address().toString().equals(bAddress)).findFirst()
                        .orElseThrow();
                assertEquals(MemberStatus.up(), member.status(), "the cut-off node was never downed");
            }
        }
    }

    static Device.State device(FerryNode a) throws Exception {
        return AskPattern.<Device.Command, Device.State>ask(a.services().device("dev-1"), Device.Get::new, T,
                a.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    static void awaitBatches(FerryNode a, long n, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (a.services().metrics().batches() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertTrue(a.services().metrics().batches() >= n, "trained " + a.services().metrics().batches() + " of " + n);
    }
}
