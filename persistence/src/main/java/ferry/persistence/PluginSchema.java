package ferry.persistence;

import ferry.persistence.FerryConfig.Journal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;

/**
 * The journal, tag, snapshot and durable-state tables, taken from the SQL scripts that pekko-persistence-jdbc
 * ships in its jar, so the tables always match the plugin version on the class path.
 *
 * <p>The scripts are meant to be run once by hand: some statements lack IF NOT EXISTS ({@code CREATE UNIQUE
 * INDEX}, PostgreSQL's {@code CREATE INDEX CONCURRENTLY}). Ferry runs them on every start, so each statement
 * is rewritten to its IF NOT EXISTS form; a statement that cannot be made idempotent this way (a future
 * plugin version adding an ALTER, say) is refused loudly rather than run twice.
 */
final class PluginSchema {
    private static final Pattern CREATE_WITHOUT_GUARD = Pattern.compile(
            "^(CREATE\\s+(?:TABLE|SEQUENCE|(?:UNIQUE\\s+)?INDEX(?:\\s+CONCURRENTLY)?))\\s+(?!IF\\s+NOT\\s+EXISTS\\b)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern IDEMPOTENT = Pattern.compile(
            "^CREATE\\s+(?:TABLE|SEQUENCE|(?:UNIQUE\\s+)?INDEX(?:\\s+CONCURRENTLY)?)\\s+IF\\s+NOT\\s+EXISTS\\s.*",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private PluginSchema() {}

    /** Where the plugin keeps its create script for {@code kind}. */
    static String scriptResource(Journal kind) {
        return switch (kind) {
            case H2 -> "schema/h2/h2-create-schema.sql";
            case POSTGRES -> "schema/postgres/postgres-create-schema.sql";
        };
    }

    /** The plugin's create script for {@code kind}, as idempotent statements in script order. */
    static List<String> createStatements(Journal kind) {
        String resource = scriptResource(kind);
        // The plugin's own class loader: the script belongs to the plugin jar that is actually loaded.
        ClassLoader loader = JdbcAsyncWriteJournal.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("pekko-persistence-jdbc's " + resource + " is not on the class path");
            }
            List<String> out = new ArrayList<>();
            for (String statement : split(new String(in.readAllBytes(), StandardCharsets.UTF_8))) {
                out.add(idempotent(statement, resource));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    /** Statements of a script: {@code --} comment lines dropped, split at semicolons (the scripts have no literals). */
    static List<String> split(String script) {
        StringBuilder noComments = new StringBuilder();
        for (String line : script.split("\\R")) {
            if (!line.strip().startsWith("--")) {
                noComments.append(line).append('\n');
            }
        }
        List<String> statements = new ArrayList<>();
        for (String part : noComments.toString().split(";")) {
            String s = part.strip();
            if (!s.isEmpty()) {
                statements.add(s);
            }
        }
        return statements;
    }

    /** {@code statement} with IF NOT EXISTS added where it is missing; refuses anything else. */
    static String idempotent(String statement, String source) {
        Matcher m = CREATE_WITHOUT_GUARD.matcher(statement);
        String guarded = m.find() ? m.group(1) + " IF NOT EXISTS " + statement.substring(m.end()) : statement;
        if (!IDEMPOTENT.matcher(guarded).matches()) {
            throw new IllegalStateException("cannot run this statement of " + source
                    + " on every start (it is not a CREATE ... IF NOT EXISTS): " + statement);
        }
        return guarded;
    }
}
