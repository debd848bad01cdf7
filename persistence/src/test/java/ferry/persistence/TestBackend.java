package ferry.persistence;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.persistence.FerryConfig.Journal;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * A database for one test, either back end. H2: a file database in the test's temp dir. PostgreSQL: a fresh
 * database {@code ferry_test_<random>} on the server of {@code ferry.db.url} (FERRY_PG_URL), created through
 * the {@code postgres} maintenance database and dropped on close, so runs never see each other's rows.
 *
 * <p>PostgreSQL tests do not skip quietly: an unreachable server fails them, unless FERRY_SKIP_PG=1.
 */
public final class TestBackend implements AutoCloseable {
    public final Journal journal;
    public final Config config;
    private final ScratchDatabase scratch; // PostgreSQL only: dropped on close

    private TestBackend(Journal journal, Config config, ScratchDatabase scratch) {
        this.journal = journal;
        this.config = config;
        this.scratch = scratch;
    }

    /**
     * For every test ActorSystem: local actors only (application.conf also brings the cluster set-up of the
     * actors module, whose classes this module does not depend on) and logging through SLF4J, which
     * logback-test.xml keeps to warnings.
     */
    public static Config quiet() {
        return ConfigFactory.parseString("""
                pekko.actor.provider = local
                pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                pekko.loglevel = WARNING
                pekko.stdout-loglevel = WARNING
                """);
    }

    public static Config h2Config(Path dataDir) {
        return FerryConfig.load(Journal.H2,
                ConfigFactory.parseMap(Map.of("ferry.data-dir", dataDir.toString())).withFallback(quiet()));
    }

    public static TestBackend open(Journal journal, Path tempDir) {
        return switch (journal) {
            case H2 -> new TestBackend(journal, h2Config(tempDir.resolve("data")), null);
            case POSTGRES -> freshPostgres();
        };
    }

    private static TestBackend freshPostgres() {
        Config base = FerryConfig.load(Journal.POSTGRES, quiet());
        try {
            ScratchDatabase db = ScratchDatabase.create(quiet(), "ferry_test");
            return new TestBackend(Journal.POSTGRES, db.config(), db);
        } catch (SQLException e) {
            if ("1".equals(System.getenv("FERRY_SKIP_PG"))) {
                Assumptions.abort("PostgreSQL unreachable at " + ScratchDatabase.adminUrl(base)
                        + " and FERRY_SKIP_PG=1: " + e.getMessage());
            }
            fail("PostgreSQL tests need a server at " + ScratchDatabase.adminUrl(base) + " (user "
                    + base.getString("ferry.db.user") + "; FERRY_PG_URL / FERRY_PG_USER move it, FERRY_SKIP_PG=1 "
                    + "skips): " + e.getMessage(), e);
            return null;
        }
    }

    public FerryDatabase openDatabase() {
        return FerryDatabase.fromConfig(config);
    }

    @Override
    public void close() throws SQLException {
        if (scratch != null) {
            scratch.close();
        }
    }
}
