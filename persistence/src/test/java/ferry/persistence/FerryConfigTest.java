package ferry.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.persistence.FerryConfig.Journal;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration layers: defaults, substitutions that follow overrides, the PostgreSQL overlay. */
class FerryConfigTest {
    private static final String SLICK = "pekko-persistence-jdbc.shared-databases.slick";

    @Test
    void parsesJournalNamesAndRejectsOthersClearly() {
        assertEquals(Journal.H2, Journal.parse("h2"));
        assertEquals(Journal.H2, Journal.parse(" H2 "));
        assertEquals(Journal.POSTGRES, Journal.parse("postgres"));
        assertEquals(Journal.POSTGRES, Journal.parse("PostgreSQL"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Journal.parse("mysql"));
        assertTrue(e.getMessage().contains("\"mysql\"") && e.getMessage().contains("h2 or postgres"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Journal.parse(null));
    }

    @Test
    void journalFromEnvironmentDefaultsToH2() {
        String env = System.getenv("FERRY_JOURNAL");
        Journal expected = env == null || env.isBlank() ? Journal.H2 : Journal.parse(env);
        assertEquals(expected, Journal.fromEnvOrDefault());
    }

    @Test
    void h2IsTheDefaultAndFollowsTheDataDirOverride(@TempDir Path tmp) {
        Config c = TestBackend.h2Config(tmp);
        assertEquals("h2", c.getString("ferry.db.kind"));
        String url = c.getString("ferry.db.url");
        assertEquals("jdbc:h2:file:" + tmp + "/ferry;DATABASE_TO_UPPER=FALSE;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0", url);
        // The journal plugin reads the very same database.
        assertEquals(url, c.getString(SLICK + ".db.url"));
        assertEquals("slick.jdbc.H2Profile$", c.getString(SLICK + ".profile"));
        assertEquals("org.h2.Driver", c.getString(SLICK + ".db.driver"));
        assertEquals(c.getInt("ferry.db.max-connections"), c.getInt(SLICK + ".db.maxConnections"));
        assertEquals(c.getInt("ferry.db.max-connections"), c.getInt(SLICK + ".db.numThreads"));

        assertEquals("jdbc-journal", c.getString("pekko.persistence.journal.plugin"));
        assertEquals("jdbc-snapshot-store", c.getString("pekko.persistence.snapshot-store.plugin"));
        assertEquals("jdbc-durable-state-store", c.getString("pekko.persistence.state.plugin"));
        for (String plugin : new String[] {"jdbc-journal", "jdbc-snapshot-store", "jdbc-read-journal",
                "jdbc-durable-state-store"}) {
            assertEquals("slick", c.getString(plugin + ".use-shared-db"), plugin);
        }
    }

    @Test
    void defaultDataDirIsRunDataUnderTheWorkingDirectory() {
        if (System.getenv("FERRY_DATA_DIR") == null) {
            Path expected = Path.of("run/data").toAbsolutePath().normalize();
            assertEquals(expected.toString(), FerryConfig.load(Journal.H2).getString("ferry.data-dir"));
            // Loaded without FerryConfig the path stays relative, but in the "./" form H2 accepts.
            assertTrue(ConfigFactory.load().getString("ferry.db.url").startsWith("jdbc:h2:file:./run/data/ferry;"));
        }
    }

    @Test
    void relativeDataDirBecomesAbsolute() {
        Config c = FerryConfig.load(Journal.H2, ConfigFactory.parseMap(Map.of("ferry.data-dir", "some/rel")));
        Path expected = Path.of("some/rel").toAbsolutePath().normalize();
        assertEquals(expected.toString(), c.getString("ferry.data-dir"));
        assertTrue(c.getString("ferry.db.url").startsWith("jdbc:h2:file:" + expected + "/ferry;"));
    }

    @Test
    void postgresOverlaySwitchesTheDatabaseAndThePlugin() {
        Config c = FerryConfig.load(Journal.POSTGRES);
        assertEquals("postgres", c.getString("ferry.db.kind"));
        String envUrl = System.getenv("FERRY_PG_URL");
        String url = c.getString("ferry.db.url");
        assertEquals(envUrl != null ? envUrl : "jdbc:postgresql://127.0.0.1:5432/test", url);
        String envUser = System.getenv("FERRY_PG_USER");
        assertEquals(envUser != null ? envUser : "postgres", c.getString("ferry.db.user"));
        assertEquals(url, c.getString(SLICK + ".db.url"));
        assertEquals("slick.jdbc.PostgresProfile$", c.getString(SLICK + ".profile"));
        assertEquals("org.postgresql.Driver", c.getString(SLICK + ".db.driver"));
    }

    @Test
    void overridesWinOverTheOverlayAndFlowIntoThePlugin() {
        Config c = FerryConfig.load(Journal.POSTGRES,
                ConfigFactory.parseMap(Map.of("ferry.db.url", "jdbc:postgresql://db.example:5433/ferry")));
        assertEquals("jdbc:postgresql://db.example:5433/ferry", c.getString(SLICK + ".db.url"));
    }

    @Test
    void aKindThatContradictsTheChosenJournalIsAnError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FerryConfig.load(Journal.H2,
                ConfigFactory.parseMap(Map.of("ferry.db.kind", "postgres"))));
        assertTrue(e.getMessage().contains("ferry.db.kind is postgres"), e.getMessage());
    }

    @Test
    void serializationIsCborAndNeverJava() {
        Config c = FerryConfig.load(Journal.H2);
        assertFalse(c.getBoolean("pekko.actor.allow-java-serialization"));
        assertEquals("jackson-cbor",
                c.getConfig("pekko.actor.serialization-bindings").root().get("ferry.persistence.CborSerializable")
                        .unwrapped());
        // Pekko's own defaults are still there (our file adds to them, it does not replace them).
        assertEquals("org.apache.pekko.serialization.jackson.JacksonCborSerializer",
                c.getString("pekko.actor.serializers.jackson-cbor"));
    }
}
