package ferry.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.persistence.FerryConfig.Journal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** Schema creation from the plugin's own scripts, on both back ends, any number of times. */
class SchemaTest {
    static final List<String> TABLES = List.of("event_journal", "event_tag", "snapshot", "durable_state",
            "ferry_model_blob");

    @ParameterizedTest
    @EnumSource(Journal.class)
    void ensureSchemaTwiceCreatesEveryTableAndIndex(Journal journal, @TempDir Path tmp) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp); FerryDatabase db = backend.openDatabase()) {
            db.ensureSchema();
            db.ensureSchema();
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                for (String table : TABLES) {
                    try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM \"" + table + "\"")) {
                        assertTrue(rs.next());
                        assertEquals(0, rs.getLong(1), table);
                    }
                }
                List<String> indexes = indexes(c, "event_journal");
                assertTrue(indexes.contains("event_journal_ordering_idx"), indexes.toString());
                indexes = indexes(c, "durable_state");
                assertTrue(indexes.contains("state_tag_idx") && indexes.contains("state_global_offset_idx"),
                        indexes.toString());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void nodesStartingTogetherBothCreateTheSchema(Journal journal, @TempDir Path tmp) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp);
                FerryDatabase a = backend.openDatabase();
                FerryDatabase b = backend.openDatabase()) {
            // On PostgreSQL the nodes would be separate JVMs: skip the in-JVM lock so that only the advisory
            // lock in the database keeps them apart. An H2 file only ever has one JVM.
            Runnable ra = journal == Journal.POSTGRES ? a::createSchema : a::ensureSchema;
            Runnable rb = journal == Journal.POSTGRES ? b::createSchema : b::ensureSchema;
            CompletableFuture<Void> fa = CompletableFuture.runAsync(ra);
            CompletableFuture<Void> fb = CompletableFuture.runAsync(rb);
            CompletableFuture.allOf(fa, fb).get(60, TimeUnit.SECONDS);
            ModelRef ref = a.blobStore().put(new byte[] {1, 2, 3});
            assertTrue(b.blobStore().contains(ref));
        }
    }

    @Test
    void unreachablePostgresIsReportedWithItsUrl(@TempDir Path tmp) {
        var config = FerryConfig.load(Journal.POSTGRES, com.typesafe.config.ConfigFactory.parseMap(
                java.util.Map.of("ferry.db.url", "jdbc:postgresql://127.0.0.1:1/nowhere?connectTimeout=2")));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FerryDatabase.fromConfig(config));
        assertTrue(e.getMessage().contains("cannot connect to the PostgreSQL database at "
                + "jdbc:postgresql://127.0.0.1:1/nowhere?connectTimeout=2"), e.getMessage());
    }

    @Test
    void scriptStatementsAreMadeIdempotent() {
        assertEquals("CREATE INDEX CONCURRENTLY IF NOT EXISTS state_tag_idx on public.durable_state (tag)",
                PluginSchema.idempotent("CREATE INDEX CONCURRENTLY state_tag_idx on public.durable_state (tag)", "t"));
        assertEquals("CREATE UNIQUE INDEX IF NOT EXISTS \"i\" on PUBLIC.\"t\" (\"o\")",
                PluginSchema.idempotent("CREATE UNIQUE INDEX \"i\" on PUBLIC.\"t\" (\"o\")", "t"));
        String guarded = "CREATE TABLE IF NOT EXISTS t (a INT)";
        assertEquals(guarded, PluginSchema.idempotent(guarded, "t"));
        assertEquals("create sequence IF NOT EXISTS s", PluginSchema.idempotent("create sequence s", "t"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PluginSchema.idempotent("ALTER TABLE t ADD COLUMN b INT", "some.sql"));
        assertTrue(e.getMessage().contains("some.sql") && e.getMessage().contains("ALTER TABLE"), e.getMessage());

        // Both shipped scripts pass, every statement guarded.
        for (Journal j : Journal.values()) {
            List<String> statements = PluginSchema.createStatements(j);
            assertTrue(statements.size() >= 7, j + ": " + statements);
            statements.forEach(s -> assertTrue(s.toUpperCase(Locale.ROOT).contains("IF NOT EXISTS"), s));
        }
    }

    private static List<String> indexes(Connection c, String table) throws Exception {
        List<String> names = new ArrayList<>();
        try (ResultSet rs = c.getMetaData().getIndexInfo(null, null, table, false, false)) {
            while (rs.next()) {
                String name = rs.getString("INDEX_NAME");
                if (name != null) {
                    names.add(name);
                }
            }
        }
        return names;
    }
}
