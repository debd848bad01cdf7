package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.device.Device;
import ferry.actors.node.DatasetRegistry;
import com.typesafe.config.ConfigFactory;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.node.Faults;
import ferry.actors.node.FerryNode;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MobilityEvent;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.ops.Asks;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.ModelRef;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FedFly migration inside one JVM on H2: a device that moves mid-round ends with exactly the weights it would
 * have had without moving, its batch log shows every batch once; the restart baseline redoes the batches before
 * the move; a move to an unknown edge is refused and training goes on where it was.
 */
class MigrationTest {
    @TempDir
    static Path tmp;
    static TestBackend backend;
    static FerryNode node;
    static final int BATCHES = 10;
    static final Faults FAULTS = new Faults();

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.open(Journal.H2, tmp);
        // A short ask timeout: a crashed edge's silence is noticed in seconds.
        node = FerryNode.start("mig", ConfigFactory.parseString("ferry.ask-timeout = 3s")
                .withFallback(SessionIntegrationTest.nodeConfig(backend)), EntityTestSupport.DATASETS, FAULTS);
        SessionIntegrationTest.setUp(node, 2, 400); // dev-1 on edge-1, dev-2 on edge-2; 400 samples each
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
        backend.close();
    }

    static SessionSpec spec(MigrationMode mode, List<MobilityEvent> moves) {
        return new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1", "dev-2"), 1, 4,
                400 / BATCHES, 1, 0.05f, 1, 500, 120, mode, moves);
    }

    static TrainingSession.State run(String id, SessionSpec spec) throws Exception {
        return run(node, id, spec);
    }

    /** Runs a one-round session with dev-1 starting on edge-1; returns the final global model. */
    static TrainingSession.State run(FerryNode node, String id, SessionSpec spec) throws Exception {
        Asks.ack(node.services().device("dev-1"), r -> new Device.AttachTo("edge-1", r), Duration.ofSeconds(30),
                node.system().scheduler()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        SessionIntegrationTest.create(node, id, spec);
        TrainingSession.State s = SessionIntegrationTest.awaitEnd(node, id);
        assertEquals(TrainingSession.Status.FINISHED, s.status(), s.failure());
        return s;
    }

    /** One batch as the batch log records it: its cursor and the edge its server half ran on. */
    record Logged(long cursor, String edgeId) {}

    static List<Logged> batchLog(String sessionId) throws Exception {
        return batchLog(node, sessionId);
    }

    /** The events of one entity, read back through the JDBC read journal. */
    static List<Object> events(FerryNode node, String persistenceId) throws Exception {
        JdbcReadJournal journal = PersistenceQuery.get(node.system()).getReadJournalFor(JdbcReadJournal.class,
                JdbcReadJournal.Identifier());
        List<EventEnvelope> envelopes = journal.currentEventsByPersistenceId(persistenceId, 0, Long.MAX_VALUE)
                .runWith(Sink.seq(), node.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        return envelopes.stream().map(EventEnvelope::event).toList();
    }

    /** The batch log of dev-1 for one session, stretch by stretch expanded to one entry per batch, in order. */
    static List<Logged> batchLog(FerryNode node, String sessionId) throws Exception {
        List<Logged> log = new ArrayList<>();
        for (Object e : events(node, "Device|dev-1")) {
            if (e instanceof Device.BatchesDone b && b.sessionId().equals(sessionId)) {
                for (long c = b.from(); c < b.to(); c++) {
                    log.add(new Logged(c, b.edgeId()));
                }
            }
        }
        return log;
    }

    @Test
    void aMoveMidRoundChangesNothingButWhereTheServerHalfRuns() throws Exception {
        ModelRef still = run("still", spec(MigrationMode.FEDFLY, List.of())).global();
        TrainingSession.State moved = run("moved", spec(MigrationMode.FEDFLY,
                List.of(new MobilityEvent("dev-1", 1, 5, "edge-2"))));
        assertEquals(still, moved.global(), "bit-identical global model (content-addressed refs are equal)");

        List<Logged> log = batchLog("moved");
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), log.stream().map(Logged::cursor)
                .toList(), "every batch exactly once, in order");
        assertEquals("edge-1", log.get(5).edgeId(), "batch 5, in hand at the move, was trained on edge-1");
        assertEquals("edge-2", log.get(6).edgeId());
        assertEquals("edge-2", log.get(9).edgeId());
        Device.State dev = Asks.<Device.Command, Device.State>ask(node.services().device("dev-1"), Device.Get::new,
                Duration.ofSeconds(30), node.system().scheduler()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals("edge-2", dev.edgeId());
    }

    @Test
    void anEdgeThatLosesTheServerHalfMidRoundIsRebuiltWithoutRetrainingABatch() throws Exception {
        ModelRef still = run("still3", spec(MigrationMode.FEDFLY, List.of())).global();
        FAULTS.loseStateAfterStep(OffloadedTraining.entityId("crash", "dev-1", "edge-1"), 6);
        TrainingSession.State s = run("crash", spec(MigrationMode.FEDFLY, List.of()));
        assertEquals(still, s.global(), "rebuilt from the round's start by replaying steps 0-5, then step 6 again");
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L),
                batchLog("crash").stream().map(Logged::cursor).toList(), "no batch trained twice on the device");
        MoveRecord rebuilt = s.history().get(0).moves().get(0);
        assertEquals("edge-1", rebuilt.toEdge());
        assertTrue(rebuilt.bytesMoved() > 0, "the replayed activations");
    }

    @Test
    void aRebuildStartsFromTheEdgesLastCheckpoint() throws Exception {
        // 40 batches of 10: the edge checkpoints after step 19 (every 20); it crashes after step 25
        SessionSpec small = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST,
                List.of("dev-1", "dev-2"), 1, 4, 10, 1, 0.05f, 1, 500, 120);
        ModelRef still = run("still5", small).global();
        FAULTS.loseStateAfterStep(OffloadedTraining.entityId("ckpt", "dev-1", "edge-1"), 25);
        TrainingSession.State s = run("ckpt", small);
        assertEquals(still, s.global());
        assertEquals(40, batchLog("ckpt").size());
        List<Object> edgeEvents = events(node, "OffloadedTraining|" + OffloadedTraining.entityId("ckpt", "dev-1",
                "edge-1"));
        OffloadedTraining.TookOver rebuilt = (OffloadedTraining.TookOver) edgeEvents.stream()
                .filter(e -> e instanceof OffloadedTraining.TookOver).findFirst().orElseThrow();
        assertEquals(19, rebuilt.handoff().lastCursor(), "rebuilt from the checkpoint after step 19");
        assertNotNull(rebuilt.handoff().state());
        MoveRecord replay = s.history().get(0).moves().get(0);
        // steps 20-24 replayed (25, the one in hand, is sent again as usual): 5 encoded [10, 64, 7, 7] tensors
        assertEquals(5L * (1 + 4 * 4 + 10 * 64 * 7 * 7 * 4), replay.bytesMoved(), "steps 20-24, not 0-24");
    }

    @Test
    void anEdgeThatLosesTheHalfBeforeTheRoundsEndRebuildsItAndTheRoundFinishes() throws Exception {
        ModelRef still = run("still6", spec(MigrationMode.FEDFLY, List.of())).global();
        FAULTS.loseStateBeforeFinish(OffloadedTraining.entityId("finish-crash", "dev-1", "edge-1"));
        TrainingSession.State s = run("finish-crash", spec(MigrationMode.FEDFLY, List.of()));
        assertEquals(still, s.global(), "the half rebuilt from the round's start and all ten steps replayed");
        assertTrue(s.history().get(0).failures().isEmpty(), "dev-1's update is in: " + s.history().get(0).failures());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L),
                batchLog("finish-crash").stream().map(Logged::cursor).toList(), "no batch trained twice");
        MoveRecord rebuilt = s.history().get(0).moves().get(0);
        assertEquals("edge-1", rebuilt.toEdge());
        assertTrue(rebuilt.bytesMoved() > 0, "the replayed activations");
    }

    @Test
    void aSourceEdgeThatDiesDuringTheHandOffIsRebuiltOnTheTarget() throws Exception {
        ModelRef still = run("still4", spec(MigrationMode.FEDFLY, List.of())).global();
        // the old edge trains the batch in hand (5), then loses everything before it can hand off
        FAULTS.loseStateAfterStep(OffloadedTraining.entityId("handoff-crash", "dev-1", "edge-1"), 5);
        TrainingSession.State s = run("handoff-crash", spec(MigrationMode.FEDFLY,
                List.of(new MobilityEvent("dev-1", 1, 5, "edge-2"))));
        assertEquals(still, s.global(), "no loss: edge-2 rebuilt the half from the round's start and the replay");
        List<Logged> log = batchLog("handoff-crash");
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), log.stream().map(Logged::cursor).toList(),
                "no duplicate batch");
        assertEquals("edge-2", log.get(9).edgeId());
    }

    @Test
    void theRestartBaselineRedoesTheBatchesBeforeTheMove() throws Exception {
        TrainingSession.State s = run("restart", spec(MigrationMode.RESTART,
                List.of(new MobilityEvent("dev-1", 1, 5, "edge-2"))));
        List<Long> cursors = batchLog("restart").stream().map(Logged::cursor).toList();
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), cursors,
                "batches 0-4 trained on edge-1 were lost and redone on edge-2 (5 was in flight, its answer dropped)");
        assertNotNull(s.global());
    }

    @Test
    void aMoveToAnUnknownEdgeIsRefusedAndTrainingGoesOn() throws Exception {
        ModelRef still = run("still2", spec(MigrationMode.FEDFLY, List.of())).global();
        TrainingSession.State s = run("nowhere", spec(MigrationMode.FEDFLY,
                List.of(new MobilityEvent("dev-1", 1, 3, "edge-9"))));
        assertEquals(still, s.global(), "the refused move did not disturb training");
        List<Logged> log = batchLog("nowhere");
        assertEquals(BATCHES, log.size());
        assertTrue(log.stream().allMatch(b -> b.edgeId().equals("edge-1")));
        var reply = Asks.ack(node.services().device("dev-1"), r -> new Device.MoveTo("edge-9", r),
                Duration.ofSeconds(30), node.system().scheduler()).toCompletableFuture();
        try {
            reply.get(30, TimeUnit.SECONDS);
            throw new AssertionError("a move to an unregistered edge must be refused");
        } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause().getMessage().contains("not registered"), e.getCause().getMessage());
        }
    }
}
