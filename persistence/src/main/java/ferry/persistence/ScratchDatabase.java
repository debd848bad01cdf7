package ferry.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL database of its own for one test or benchmark run: {@code <prefix>_<random>} on the server of
 * {@code ferry.db.url}, created through the {@code postgres} maintenance database and dropped on close, so
 * runs never see each other's rows.
 */
public final class ScratchDatabase implements AutoCloseable {
    private static final Pattern PG_URL = Pattern.compile("^(jdbc:postgresql://[^/]+/)([^?]*)(\\?.*)?$");

    private final Config config;
    private final Config base;
    private final String name;
    private final String adminUrl;

    private ScratchDatabase(Config config, Config base, String name, String adminUrl) {
        this.config = config;
        this.base = base;
        this.name = name;
        this.adminUrl = adminUrl;
    }

    /**
     * Creates the database. {@code overrides} are layered as in {@link FerryConfig#load}; the result's whole
     * configuration, the journal plugin's included, points at the new database.
     */
    public static ScratchDatabase create(Config overrides, String prefix) throws SQLException {
        Config base = FerryConfig.load(FerryConfig.Journal.POSTGRES, overrides);
        String url = base.getString("ferry.db.url");
        Matcher m = PG_URL.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("cannot find the database name in " + url);
        }
        String params = m.group(3) == null ? "" : m.group(3);
        String adminUrl = m.group(1) + "postgres" + params;
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = admin(base, adminUrl); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        // Loaded again rather than layered on the resolved base: the plugin's settings substitute ferry.db.url.
        Config config = FerryConfig.load(FerryConfig.Journal.POSTGRES,
                ConfigFactory.parseMap(Map.of("ferry.db.url", m.group(1) + name + params)).withFallback(overrides));
        return new ScratchDatabase(config, base, name, adminUrl);
    }

    /** Where to reach the server's maintenance database (for messages). */
    public static String adminUrl(Config base) {
        Matcher m = PG_URL.matcher(base.getString("ferry.db.url"));
        return m.matches() ? m.group(1) + "postgres" : base.getString("ferry.db.url");
    }

    private static Connection admin(Config config, String adminUrl) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", config.getString("ferry.db.user"));
        p.setProperty("password", config.getString("ferry.db.password"));
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(adminUrl, p);
    }

    /** The base configuration pointed at the scratch database. */
    public Config config() {
        return config;
    }

    public String url() {
        return config.getString("ferry.db.url");
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = admin(base, adminUrl); Statement st = c.createStatement()) {
            // FORCE: a pool that is still closing must not keep the database alive.
            st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
