package ferry.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryServices;
import ferry.persistence.FerryDatabase;
import ferry.persistence.TestBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * For per-entity tests: Pekko's persistence testkit journal (in memory, with serialization of every command,
 * event and state checked), a local actor provider, and a real H2 blob store for the weights.
 */
public final class EntityTestSupport implements AutoCloseable {
    /** The datasets are large; every test in the JVM shares one registry. */
    public static final DatasetRegistry DATASETS = new DatasetRegistry();

    public final Config config;
    public final FerryDatabase db;
    public final FerryServices services;
    private final ExecutorService executor = Executors.newFixedThreadPool(2);

    public EntityTestSupport(Path tempDir) {
        Config h2 = TestBackend.h2Config(tempDir.resolve("data"));
        this.config = ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(EventSourcedBehaviorTestKit.config())
                .withFallback(h2);
        this.db = FerryDatabase.fromConfig(h2);
        db.ensureSchema();
        this.services = new FerryServices(null, db.blobStore(), DATASETS, executor, Duration.ofSeconds(20),
                new ferry.actors.node.HalfPool(), ferry.actors.node.Faults.NONE, new ferry.actors.node.FerryMetrics());
    }

    @Override
    public void close() {
        executor.shutdownNow();
        db.close();
    }
}
