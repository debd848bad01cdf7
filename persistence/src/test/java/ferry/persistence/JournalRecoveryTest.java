package ferry.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.persistence.FerryConfig.Journal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An event-sourced actor writes through the JDBC journal (and snapshot store), its ActorSystem stops, and a
 * new ActorSystem on the same database gets the same state back: the restart a node goes through.
 */
class JournalRecoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @ParameterizedTest
    @EnumSource(Journal.class)
    void aNewActorSystemRecoversTheState(Journal journal, @TempDir Path tmp) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp); FerryDatabase db = backend.openDatabase()) {
            db.ensureSchema();
            PersistenceId id = PersistenceId.of("Counter", UUID.randomUUID().toString());
            byte[] weights = new byte[200_000];
            weights[7] = 7;
            ModelRef ref = db.blobStore().put(weights); // the blob first, then the event that refers to it

            Counter.State before;
            ActorTestKit first = ActorTestKit.create("first", backend.config);
            try {
                ActorRef<Counter.Command> counter = first.spawn(Counter.of(id, 0));
                TestProbe<Counter.State> probe = first.createTestProbe(Counter.State.class);
                for (int i = 1; i <= 5; i++) {
                    counter.tell(new Counter.Add(i, i == 3 ? ref : null, probe.ref()));
                    probe.expectMessageClass(Counter.State.class, WAIT);
                }
                counter.tell(new Counter.Rename("alpha", probe.ref()));
                before = probe.expectMessageClass(Counter.State.class, WAIT);
                assertEquals(new Counter.State(15, List.of(1, 2, 3, 4, 5), "alpha", ref), before);

                // The read journal (jdbc-read-journal) sees the same six events.
                JdbcReadJournal reads = PersistenceQuery.get(first.system().classicSystem())
                        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
                List<EventEnvelope> events = reads.currentEventsByPersistenceId(id.id(), 0, Long.MAX_VALUE)
                        .runWith(Sink.seq(), first.system()).toCompletableFuture().get(15, TimeUnit.SECONDS);
                assertEquals(6, events.size());
                assertEquals(new Counter.Added(3, ref), events.get(2).event());
            } finally {
                first.shutdownTestKit();
            }

            ActorTestKit second = ActorTestKit.create("second", backend.config);
            try {
                AtomicInteger replayed = new AtomicInteger(-1);
                ActorRef<Counter.Command> counter = second.spawn(new Counter(id, 0, new AtomicInteger(), replayed));
                TestProbe<Counter.State> probe = second.createTestProbe(Counter.State.class);
                counter.tell(new Counter.Get(probe.ref()));
                Counter.State after = probe.expectMessageClass(Counter.State.class, WAIT);
                assertEquals(before, after);
                assertEquals(6, replayed.get());
                assertArrayEquals(weights, db.blobStore().get(after.lastModel()));

                // And it carries on from there.
                counter.tell(new Counter.Add(10, null, probe.ref()));
                assertEquals(25, probe.expectMessageClass(Counter.State.class, WAIT).total());
            } finally {
                second.shutdownTestKit();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void recoveryStartsFromTheLatestSnapshot(Journal journal, @TempDir Path tmp) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp); FerryDatabase db = backend.openDatabase()) {
            db.ensureSchema();
            PersistenceId id = PersistenceId.of("Counter", UUID.randomUUID().toString());

            Counter.State before;
            ActorTestKit first = ActorTestKit.create("first", backend.config);
            try {
                ActorRef<Counter.Command> counter = first.spawn(Counter.of(id, 2));
                TestProbe<Counter.State> probe = first.createTestProbe(Counter.State.class);
                for (int i = 1; i <= 5; i++) {
                    counter.tell(new Counter.Add(i * 10, null, probe.ref()));
                    before = probe.expectMessageClass(Counter.State.class, WAIT);
                }
                counter.tell(new Counter.Get(probe.ref()));
                before = probe.expectMessageClass(Counter.State.class, WAIT);
                // Snapshots are saved after the reply: wait until the one at event 4 is in the table.
                awaitSnapshot(db, id, 4);
            } finally {
                first.shutdownTestKit();
            }

            ActorTestKit second = ActorTestKit.create("second", backend.config);
            try {
                AtomicInteger replayed = new AtomicInteger(-1);
                ActorRef<Counter.Command> counter = second.spawn(new Counter(id, 2, new AtomicInteger(), replayed));
                TestProbe<Counter.State> probe = second.createTestProbe(Counter.State.class);
                counter.tell(new Counter.Get(probe.ref()));
                assertEquals(before, probe.expectMessageClass(Counter.State.class, WAIT));
                assertEquals(new Counter.State(150, List.of(10, 20, 30, 40, 50), "", null), before);
                // Events 1-4 came from the snapshot; only event 5 was replayed.
                assertEquals(1, replayed.get());
            } finally {
                second.shutdownTestKit();
            }
        }
    }

    private static void awaitSnapshot(FerryDatabase db, PersistenceId id, long seqNr) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long latest = -1;
        while (System.nanoTime() < deadline) {
            try (Connection c = db.dataSource().getConnection();
                    PreparedStatement q = c.prepareStatement(
                            "SELECT MAX(sequence_number) FROM snapshot WHERE persistence_id = ?")) {
                q.setString(1, id.id());
                try (ResultSet rs = q.executeQuery()) {
                    rs.next();
                    latest = rs.getLong(1);
                }
            }
            if (latest >= seqNr) {
                return;
            }
            Thread.sleep(50);
        }
        assertTrue(latest >= seqNr, "no snapshot at " + seqNr + " within " + WAIT + ", latest " + latest);
    }
}
