package ferry.persistence;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;

/**
 * The JVM that {@link H2CrashTest} kills with SIGKILL: stores a blob, then persists one event after the other
 * and prints {@code ACK n} once the journal has acknowledged event n. Arguments: data dir, persistence id.
 */
public final class CrashChild {
    static final byte[] BLOB = "weights that must outlive the crash".getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        Config config = TestBackend.h2Config(Path.of(args[0]));
        FerryDatabase db = FerryDatabase.fromConfig(config);
        db.ensureSchema();
        ModelRef ref = db.blobStore().put(BLOB);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "crash-child", config);
        ActorRef<Counter.Command> counter =
                system.systemActorOf(Counter.of(PersistenceId.ofUniqueId(args[1]), 0), "counter", Props.empty());
        for (int i = 1; ; i++) {
            AskPattern.<Counter.Command, Counter.State>ask(counter, r -> new Counter.Add(1, ref, r),
                    Duration.ofSeconds(10), system.scheduler()).toCompletableFuture().get();
            System.out.println("ACK " + i);
            System.out.flush();
        }
    }
}
