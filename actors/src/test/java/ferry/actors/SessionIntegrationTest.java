package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.ops.Asks;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whole sessions on a real one-node cluster with the real JDBC journal, on H2 and on PostgreSQL: SplitFed and
 * FedAvg end to end, and a session that survives its ActorSystem being terminated and started again.
 */
class SessionIntegrationTest {
    static final Duration T = Duration.ofSeconds(60);
    @TempDir
    Path tmp;

    static Config nodeConfig(TestBackend backend) {
        return ConfigFactory.parseString("pekko.actor.provider = cluster\npekko.remote.artery.canonical.port = 0").withFallback(backend.config);
    }

    static void setUp(FerryNode node, int devices, int samplesPerDevice) throws Exception {
        var svc = node.services();
        var sch = node.system().scheduler();
        for (int e = 1; e <= 2; e++) {
            String id = "edge-" + e;
            node.hostEdge(id, devices, T).toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
        for (int i = 0; i < devices; i++) {
            DataPartition p = DataPartition.iid(DatasetRegistry.FASHION_MNIST, devices, i, 5, devices * samplesPerDevice);
            String id = "dev-" + (i + 1);
            Asks.ack(svc.device(id), r -> new Device.Register(DeviceProfile.DEFAULT, p, r), T, sch)
                    .toCompletableFuture().get(60, TimeUnit.SECONDS);
            String edge = "edge-" + (i % 2 + 1);
            Asks.ack(svc.device(id), r -> new Device.AttachTo(edge, r), T, sch)
                    .toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
    }

    static void create(FerryNode node, String id, SessionSpec spec) throws Exception {
        Asks.ack(node.services().session(id), r -> new TrainingSession.Create(spec, r), T, node.system().scheduler())
                .toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    static TrainingSession.State get(FerryNode node, String id) throws Exception {
        return Asks.<TrainingSession.Command, TrainingSession.State>ask(node.services().session(id),
                TrainingSession.Get::new, T, node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    static TrainingSession.State awaitEnd(FerryNode node, String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            TrainingSession.State s = get(node, id);
            if (s.status() == TrainingSession.Status.FINISHED || s.status() == TrainingSession.Status.FAILED) {
                return s;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("session " + id + " did not end within 5 minutes");
    }

    /** The journal's event classes for one entity, read with plain JDBC from the real tables. */
    static List<String> journal(FerryNode node, String persistenceId) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = node.database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT event_ser_manifest FROM event_journal "
                     + "WHERE persistence_id = ? ORDER BY sequence_number")) {
            ps.setString(1, persistenceId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String m = rs.getString(1);
                    out.add(m.substring(m.lastIndexOf('$') + 1));
                }
            }
        }
        return out;
    }

    static SessionSpec spec(String algorithm, int devices, int rounds) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= devices; i++) {
            ids.add("dev-" + i);
        }
        return new SessionSpec(algorithm, "vgg5", DatasetRegistry.FASHION_MNIST, ids, rounds, 4, 50, 1, 0.05f, 1,
                2000, 120);
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void splitFedSessionRunsToTheEndAndJournalsItsRounds(Journal journal) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp);
             FerryNode node = FerryNode.start("it", nodeConfig(backend), EntityTestSupport.DATASETS)) {
            setUp(node, 2, 500);
            create(node, "s1", spec("splitfed", 2, 2));
            TrainingSession.State s = awaitEnd(node, "s1");
            assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
            assertEquals(2, s.history().size());
            RoundMetrics last = s.history().get(1);
            assertTrue(last.testAccuracy() > 0.4, "well above the 0.1 of chance: " + last.testAccuracy());
            assertEquals(2, last.participants());
            assertTrue(last.bytesUp() > 0 && last.bytesDown() > 0);
            assertTrue(last.trainLoss() < s.history().get(0).trainLoss() + 0.5);
            assertEquals(List.of("Created", "RoundStarted", "RoundCompleted", "RoundStarted", "RoundCompleted",
                    "Finished"), journal(node, "TrainingSession|s1"));
            assertEquals(List.of("RoundBegun", "RoundFinished", "RoundBegun", "RoundFinished"),
                    journal(node, "OffloadedTraining|" + OffloadedTraining.entityId("s1", "dev-2", "edge-2")));
            List<String> device = journal(node, "Device|dev-1");
            assertEquals(List.of("Registered", "AttachedTo"), device.subList(0, 2));
            assertEquals(2, device.stream().filter("BatchesDone"::equals).count(),
                    "the batch log: one stretch per round (no moves)");
            assertEquals(20, MigrationTest.batchLog(node, "s1").size(), "2 rounds of 500 samples in batches of 50");
        }
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void sessionResumesAfterItsActorSystemIsTerminatedAndRestarted(Journal journal) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp)) {
            String firstGlobal;
            try (FerryNode a = FerryNode.start("it", nodeConfig(backend), EntityTestSupport.DATASETS)) {
                setUp(a, 2, 400);
                create(a, "s2", spec("splitfed", 2, 4));
                TrainingSession.State s;
                do {
                    Thread.sleep(100);
                    s = get(a, "s2");
                } while (s.history().isEmpty());
                firstGlobal = s.history().size() + ":" + s.global();
            } // the ActorSystem terminates here, mid-session
            try (FerryNode b = FerryNode.start("it", nodeConfig(backend), EntityTestSupport.DATASETS)) {
                TrainingSession.State resumed = get(b, "s2");
                assertTrue(resumed.history().size() >= 1, "committed rounds survive the restart");
                if (resumed.status() == TrainingSession.Status.RUNNING) {
                    assertTrue(resumed.attempt() >= 2, "the interrupted round runs again as a new attempt");
                }
                TrainingSession.State s = awaitEnd(b, "s2");
                assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
                List<Integer> rounds = s.history().stream().map(RoundMetrics::round).toList();
                assertEquals(List.of(1, 2, 3, 4), rounds, "every round committed exactly once");
                List<String> events = journal(b, "TrainingSession|s2");
                assertEquals(1, events.stream().filter("Created"::equals).count());
                assertEquals(4, events.stream().filter("RoundCompleted"::equals).count());
                assertTrue(s.history().get(3).testAccuracy() > 0.4);
                assertTrue(firstGlobal.startsWith("1:") || firstGlobal.startsWith("2:"), firstGlobal);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Journal.class, names = "H2")
    void fedAvgSessionRunsToTheEnd(Journal journal) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp);
             FerryNode node = FerryNode.start("it", nodeConfig(backend), EntityTestSupport.DATASETS)) {
            setUp(node, 2, 500);
            create(node, "f1", spec("fedavg", 2, 1));
            TrainingSession.State s = awaitEnd(node, "f1");
            assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
            assertEquals(0, s.history().get(0).bytesUp(), "FedAvg sends weights, not activations");
            assertTrue(s.history().get(0).testAccuracy() > 0.3, "" + s.history().get(0).testAccuracy());
        }
    }
}
