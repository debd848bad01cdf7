package ferry.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a JVM that is writing to the H2 journal: every event the journal acknowledged before the kill is
 * there after it, the blob too, and the next JVM opens the file (the lock died with the process).
 */
class H2CrashTest {
    private static final int ACKS_BEFORE_KILL = 25;

    @Test
    void acknowledgedEventsSurviveKillNine(@TempDir Path tmp) throws Exception {
        Path dataDir = tmp.resolve("data");
        String pid = "crash-counter";
        Path stderr = tmp.resolve("child.err");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", classPath, CrashChild.class.getName(), dataDir.toString(), pid)
                .redirectError(stderr.toFile())
                .start();
        int lastAck = 0;
        Config config = TestBackend.h2Config(dataDir);
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            String line;
            while (lastAck < ACKS_BEFORE_KILL && (line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    lastAck = Integer.parseInt(line.substring(4).trim());
                }
                if (System.nanoTime() > deadline) {
                    break;
                }
                if (lastAck == 1) {
                    // While the child has the file open, a second JVM is told why it cannot.
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                            () -> FerryDatabase.fromConfig(config).close());
                    assertTrue(e.getMessage().contains("one JVM at a time"), e.getMessage());
                }
            }
            assertEquals(ACKS_BEFORE_KILL, lastAck, () -> "the child stopped early; its stderr: " + read(stderr));
            // SIGKILL: no shutdown hooks, no H2 close. Through the handle, because Process.destroyForcibly also
            // closes our end of the pipe and the ACKs still in it would be lost.
            child.toHandle().destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            // ACKs printed between our decision and the kill count too.
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    lastAck = Integer.parseInt(line.substring(4).trim());
                }
            }
        } finally {
            child.destroyForcibly();
        }
        assertEquals(137, child.exitValue(), "killed by SIGKILL");

        try (FerryDatabase db = FerryDatabase.fromConfig(config)) {
            db.ensureSchema();
            ModelRef ref = new ModelRef(JdbcBlobStore.sha256Hex(CrashChild.BLOB), CrashChild.BLOB.length);
            assertArrayEquals(CrashChild.BLOB, db.blobStore().get(ref));

            ActorTestKit kit = ActorTestKit.create("after-crash", config);
            try {
                AtomicInteger replayed = new AtomicInteger(-1);
                ActorRef<Counter.Command> counter =
                        kit.spawn(new Counter(PersistenceId.ofUniqueId(pid), 0, new AtomicInteger(), replayed));
                TestProbe<Counter.State> probe = kit.createTestProbe(Counter.State.class);
                counter.tell(new Counter.Get(probe.ref()));
                Counter.State state = probe.expectMessageClass(Counter.State.class, Duration.ofSeconds(20));
                // Every acknowledged event is back; at most the one in flight at the kill was also written.
                assertTrue(state.total() >= lastAck && state.total() <= lastAck + 1,
                        "recovered " + state.total() + " events, " + lastAck + " were acknowledged");
                assertEquals(List.of(), state.history().stream().filter(x -> x != 1).toList());
                assertEquals(ref, state.lastModel());
            } finally {
                kit.shutdownTestKit();
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(unreadable: " + e + ")";
        }
    }
}
