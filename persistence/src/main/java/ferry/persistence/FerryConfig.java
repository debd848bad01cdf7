package ferry.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Loads Ferry's configuration (cluster-config/ on the class path) for a chosen journal back end.
 *
 * <p>Layers, highest first: the caller's overrides, the PostgreSQL overlay (only for {@link Journal#POSTGRES}),
 * system properties, application.conf, the libraries' reference.conf. The layers are merged <em>before</em>
 * substitutions are resolved, so overriding {@code ferry.data-dir} or {@code ferry.db.url} also moves every
 * setting derived from it (the H2 URL, the journal plugin's shared database).
 */
public final class FerryConfig {
    /** The overlay that switches ferry.db to PostgreSQL. */
    static final String POSTGRES_OVERLAY = "persistence-postgres.conf";

    /** Which database holds the journal, the snapshots and the model blobs. */
    public enum Journal {
        /** Embedded H2 file database under {@code ferry.data-dir}: nothing to install, one JVM at a time. */
        H2,
        /** A PostgreSQL server ({@code ferry.db.url}): for a cluster of several JVMs. */
        POSTGRES;

        /** The name used in configuration and in FERRY_JOURNAL: {@code h2} or {@code postgres}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** {@code h2} or {@code postgres} (case and surrounding blanks ignored); anything else is an error. */
        public static Journal parse(String text) {
            if (text != null) {
                String t = text.trim().toLowerCase(Locale.ROOT);
                for (Journal j : values()) {
                    if (j.configName().equals(t)) {
                        return j;
                    }
                }
                if (t.equals("postgresql") || t.equals("pg")) {
                    return POSTGRES;
                }
            }
            String known = Arrays.stream(values()).map(Journal::configName).collect(Collectors.joining(" or "));
            throw new IllegalArgumentException("unknown journal \"" + text + "\": expected " + known);
        }

        /** The env var FERRY_JOURNAL if it is set and not blank, else H2. */
        public static Journal fromEnvOrDefault() {
            String env = System.getenv("FERRY_JOURNAL");
            if (env == null || env.isBlank()) {
                return H2;
            }
            try {
                return parse(env);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("FERRY_JOURNAL: " + e.getMessage(), e);
            }
        }
    }

    private FerryConfig() {}

    /** {@link #load(Journal, Config)} without overrides. */
    public static Config load(Journal journal) {
        return load(journal, ConfigFactory.empty());
    }

    /**
     * The resolved configuration for {@code journal}, {@code overrides} winning over everything else.
     * A relative {@code ferry.data-dir} is made absolute against the working directory (H2 refuses relative
     * database paths).
     */
    public static Config load(Journal journal, Config overrides) {
        ConfigFactory.invalidateCaches(); // system properties may have changed since the last load
        Config layered = overrides;
        if (journal == Journal.POSTGRES) {
            layered = layered.withFallback(ConfigFactory.parseResources(POSTGRES_OVERLAY,
                    ConfigParseOptions.defaults().setAllowMissing(false)));
        }
        layered = layered
                .withFallback(ConfigFactory.defaultOverrides())
                .withFallback(ConfigFactory.defaultApplication())
                .withFallback(ConfigFactory.defaultReference());

        Config resolved = layered.resolve();
        if (!resolved.hasPath("ferry.db.kind")) {
            throw new IllegalStateException("ferry.db is not configured: is cluster-config/application.conf "
                    + "(from ferry-persistence) on the class path?");
        }
        Path dataDir = Path.of(resolved.getString("ferry.data-dir"));
        if (!dataDir.isAbsolute()) {
            Config absolute = ConfigFactory.parseMap(
                    Map.of("ferry.data-dir", dataDir.toAbsolutePath().normalize().toString()),
                    "ferry.data-dir made absolute by FerryConfig");
            resolved = absolute.withFallback(layered).resolve();
        }
        Journal configured = Journal.parse(resolved.getString("ferry.db.kind"));
        if (configured != journal) {
            throw new IllegalStateException("asked for the " + journal.configName() + " journal but ferry.db.kind is "
                    + configured.configName() + " (an override or application.conf sets it)");
        }
        return resolved;
    }
}
