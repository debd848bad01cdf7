package ferry.persistence;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.persistence.FerryConfig.Journal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A database for one test, either back end. H2: a file database in the test's temp dir. PostgreSQL: a fresh
 * database {@code ferry_test_<random>} on the server of {@code ferry.db.url} (FERRY_PG_URL), created through
 * the {@code postgres} maintenance database and dropped on close, so runs never see each other's rows.
 *
 * <p>PostgreSQL tests do not skip quietly: an unreachable server fails them, unless FERRY_SKIP_PG=1.
 */
public final class TestBackend implements AutoCloseable {
    private static final Pattern PG_URL = Pattern.compile("^(jdbc:postgresql://[^/]+/)([^?]*)(\\?.*)?$");

    public final Journal journal;
    public final Config config;
    private final String dropDatabase; // PostgreSQL only: the database to drop on close
    private final String adminUrl;

    private TestBackend(Journal journal, Config config, String dropDatabase, String adminUrl) {
        this.journal = journal;
        this.config = config;
        this.dropDatabase = dropDatabase;
        this.adminUrl = adminUrl;
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
            case H2 -> new TestBackend(journal, h2Config(tempDir.resolve("data")), null, null);
            case POSTGRES -> freshPostgres();
        };
    }

    private static TestBackend freshPostgres() {
        Config base = FerryConfig.load(Journal.POSTGRES, quiet());
        String url = base.getString("ferry.db.url");
        Matcher m = PG_URL.matcher(url);
        if (!m.matches()) {
            throw new IllegalStateException("cannot find the database name in " + url);
        }
        String params = m.group(3) == null ? "" : m.group(3);
        String adminUrl = m.group(1) + "postgres" + params;
        String name = "ferry_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = admin(base, adminUrl); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            if ("1".equals(System.getenv("FERRY_SKIP_PG"))) {
                Assumptions.abort("PostgreSQL unreachable at " + adminUrl + " and FERRY_SKIP_PG=1: " + e.getMessage());
            }
            fail("PostgreSQL tests need a server at " + adminUrl + " (user " + base.getString("ferry.db.user")
                    + "; FERRY_PG_URL / FERRY_PG_USER move it, FERRY_SKIP_PG=1 skips): " + e.getMessage(), e);
        }
        Config config = FerryConfig.load(Journal.POSTGRES, ConfigFactory.parseMap(
                Map.of("ferry.db.url", m.group(1) + name + params)).withFallback(quiet()));
        return new TestBackend(Journal.POSTGRES, config, name, adminUrl);
    }

    private static Connection admin(Config config, String adminUrl) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", config.getString("ferry.db.user"));
        p.setProperty("password", config.getString("ferry.db.password"));
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(adminUrl, p);
    }

    public FerryDatabase openDatabase() {
        return FerryDatabase.fromConfig(config);
    }

    @Override
    public void close() throws SQLException {
        if (dropDatabase != null) {
            try (Connection c = admin(config, adminUrl); Statement st = c.createStatement()) {
                // FORCE: a pool that is still closing must not keep the test database alive.
                st.execute("DROP DATABASE IF EXISTS " + dropDatabase + " WITH (FORCE)");
            }
        }
    }
}
