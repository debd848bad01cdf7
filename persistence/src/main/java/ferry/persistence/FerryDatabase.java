package ferry.persistence;

import com.typesafe.config.Config;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import ferry.persistence.FerryConfig.Journal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Ferry's own connection pool on the journal's database ({@code ferry.db.*}, the same settings the journal
 * plugin's shared database is built from): creates the schema and holds the model blob store.
 *
 * <p>A small HikariCP pool (HikariCP comes with the plugin, through slick-hikaricp). Blocking: use it from a
 * dispatcher meant for blocking work. Close it when the node stops.
 */
public final class FerryDatabase implements AutoCloseable {
    /** Serializes schema creation across nodes starting at once (PostgreSQL's CREATE ... IF NOT EXISTS races). */
    private static final long SCHEMA_LOCK_KEY = 0x0FE77_5C4E3AL;
    private static final Duration SCHEMA_LOCK_WAIT = Duration.ofMinutes(2);
    private static final Object SCHEMA_MONITOR = new Object();

    private final Journal kind;
    private final String url;
    private final HikariDataSource pool;
    private final JdbcBlobStore blobStore;

    private FerryDatabase(Journal kind, String url, HikariDataSource pool) {
        this.kind = kind;
        this.url = url;
        this.pool = pool;
        this.blobStore = new JdbcBlobStore(pool, kind.configName() + " database " + url);
    }

    /**
     * Opens a pool on the database {@code config}'s {@code ferry.db} describes (config as returned by
     * {@link FerryConfig#load}). Fails at once, naming the URL, if the database cannot be reached.
     */
    public static FerryDatabase fromConfig(Config config) {
        Config db = config.getConfig("ferry.db");
        Journal kind = Journal.parse(db.getString("kind"));
        String url = db.getString("url");
        String user = db.getString("user");

        HikariConfig hc = new HikariConfig();
        hc.setPoolName("ferry-db");
        hc.setJdbcUrl(url);
        hc.setUsername(user);
        hc.setPassword(db.getString("password"));
        hc.setDriverClassName(db.getString("driver"));
        hc.setMaximumPoolSize(db.getInt("max-connections"));
        // One connection stays open: with H2 the last connection closing closes the database file.
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(30_000);
        // Try one connection now, so a wrong URL or a stopped server fails here and not at the first put.
        hc.setInitializationFailTimeout(1);
        try {
            return new FerryDatabase(kind, url, new HikariDataSource(hc));
        } catch (RuntimeException e) {
            throw new IllegalStateException(cannotConnect(kind, url, user, e), e);
        }
    }

    private static String cannotConnect(Journal kind, String url, String user, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String why = root.getMessage() != null ? root.getMessage() : root.toString();
        return switch (kind) {
            case POSTGRES -> "cannot connect to the PostgreSQL database at " + url + " as user " + user + ": " + why
                    + " (is the server running? FERRY_PG_URL and FERRY_PG_USER choose another one; FERRY_JOURNAL=h2"
                    + " uses the embedded database instead)";
            case H2 -> "cannot open the H2 database at " + url + ": " + why
                    + " (H2 lets one JVM at a time open the file: is another Ferry node using this ferry.data-dir?)";
        };
    }

    public Journal kind() {
        return kind;
    }

    public String url() {
        return url;
    }

    /** The pool, for Ferry's own tables. The journal plugin has its own pool on the same database. */
    public DataSource dataSource() {
        return pool;
    }

    /** The model blob store in this database. Run {@link #ensureSchema} once first. */
    public JdbcBlobStore blobStore() {
        return blobStore;
    }

    /**
     * Creates what is missing of the journal, tag, snapshot and durable-state tables (from the plugin's own
     * scripts, see {@link PluginSchema}) and of Ferry's blob table. Idempotent: safe on every start, and on
     * PostgreSQL safe when several nodes start at once.
     */
    public void ensureSchema() {
        // Within one JVM (the only place an H2 file can be shared) a plain lock does it: H2's own
        // CREATE ... IF NOT EXISTS is not atomic either ("object already exists" when two race).
        synchronized (SCHEMA_MONITOR) {
            createSchema();
        }
    }

    /** {@link #ensureSchema} without the in-JVM lock: what two nodes in different JVMs do (tests call it). */
    void createSchema() {
        List<String> statements = new ArrayList<>(PluginSchema.createStatements(kind));
        statements.add(JdbcBlobStore.createTableSql(kind));
        String current = null;
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
            try {
                // One statement at a time in autocommit: PostgreSQL's CREATE INDEX CONCURRENTLY refuses to run
                // in a transaction, and a failure names its statement.
                c.setAutoCommit(true);
                if (kind == Journal.POSTGRES) {
                    current = "SELECT pg_try_advisory_lock(" + SCHEMA_LOCK_KEY + ")";
                    lockSchema(st, current);
                }
                for (String s : statements) {
                    current = s;
                    st.execute(s);
                }
                if (kind == Journal.POSTGRES) {
                    current = "SELECT pg_advisory_unlock(" + SCHEMA_LOCK_KEY + ")";
                    st.execute(current);
                }
            } catch (SQLException e) {
                // The session may still hold the advisory lock: drop the connection rather than pool it.
                pool.evictConnection(c);
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("creating the schema in " + url + " failed at: " + current + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Takes the session-level schema lock by polling pg_try_advisory_lock. Not pg_advisory_lock: a session
     * blocked in it sits in an open transaction, and the lock holder's CREATE INDEX CONCURRENTLY waits for
     * every open transaction to end, so the two would deadlock.
     */
    private void lockSchema(Statement st, String tryLock) throws SQLException {
        long deadline = System.nanoTime() + SCHEMA_LOCK_WAIT.toNanos();
        while (true) {
            try (ResultSet rs = st.executeQuery(tryLock)) {
                if (rs.next() && rs.getBoolean(1)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new SQLException("another node held the schema lock (advisory lock " + SCHEMA_LOCK_KEY
                        + ") for more than " + SCHEMA_LOCK_WAIT.toSeconds() + " s");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for the schema lock", e);
            }
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "FerryDatabase[" + kind.configName() + " " + url + "]";
    }
}
