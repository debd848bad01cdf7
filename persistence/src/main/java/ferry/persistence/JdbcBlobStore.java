package ferry.persistence;

import ferry.persistence.FerryConfig.Journal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The {@link BlobStore} in a table of the journal's own database: {@code ferry_model_blob}, keyed by the
 * SHA-256 of the bytes. Content addressing makes {@link #put} idempotent (the same model stored twice is one
 * row) and lets {@link #get} prove that the bytes it returns are the ones the ref was made from.
 *
 * <p>Blocking JDBC: call it from a dispatcher meant for blocking work.
 */
public final class JdbcBlobStore implements BlobStore {
    static final String TABLE = "ferry_model_blob";
    /** SQLSTATE for a unique-key violation, the same in H2 and PostgreSQL. */
    private static final String UNIQUE_VIOLATION = "23505";

    private final DataSource dataSource;
    private final String where;

    /**
     * The queries are the same in H2 and PostgreSQL; only the table's DDL differs ({@link #createTableSql}).
     *
     * @param dataSource a pool on a database where the blob table exists ({@link FerryDatabase#ensureSchema})
     * @param where names the database in error messages, e.g. its JDBC URL
     */
    public JdbcBlobStore(DataSource dataSource, String where) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.where = Objects.requireNonNull(where, "where");
    }

    /** The DDL for the blob table: BLOB in H2, BYTEA in PostgreSQL (both stored out of line, up to 1 GB+). */
    static String createTableSql(Journal kind) {
        String payloadType = switch (kind) {
            case H2 -> "BLOB";
            case POSTGRES -> "BYTEA";
        };
        return "CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                + "hash VARCHAR(64) PRIMARY KEY, "
                + "size BIGINT NOT NULL, "
                + "created BIGINT NOT NULL, "
                + "payload " + payloadType + " NOT NULL)";
    }

    @Override
    public ModelRef put(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        ModelRef ref = new ModelRef(sha256Hex(bytes), bytes.length);
        try (Connection c = dataSource.getConnection()) {
            // Looking first spares sending megabytes the database already has.
            if (contains(c, ref.sha256())) {
                return ref;
            }
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO " + TABLE + " (hash, size, created, payload) VALUES (?, ?, ?, ?)")) {
                insert.setString(1, ref.sha256());
                insert.setLong(2, bytes.length);
                insert.setLong(3, System.currentTimeMillis());
                insert.setBytes(4, bytes);
                insert.executeUpdate();
            } catch (SQLException e) {
                // Another writer stored the same bytes between our look and our insert: same hash, same
                // content, so their row is as good as ours.
                if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                }
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return ref;
        } catch (SQLException e) {
            throw new IllegalStateException("storing model blob " + ref.shortHash() + " (" + bytes.length
                    + " bytes) in " + where + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] get(ModelRef ref) {
        Objects.requireNonNull(ref, "ref");
        byte[] payload;
        long storedSize;
        try (Connection c = dataSource.getConnection();
                PreparedStatement q = c.prepareStatement("SELECT size, payload FROM " + TABLE + " WHERE hash = ?")) {
            q.setString(1, ref.sha256());
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    throw new BlobNotFoundException("model blob " + ref.sha256() + " (" + ref.size()
                            + " bytes) is not in the blob store (" + TABLE + " in " + where + ")");
                }
                storedSize = rs.getLong(1);
                payload = rs.getBytes(2);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading model blob " + ref.shortHash() + " from " + where + " failed: "
                    + e.getMessage(), e);
        }
        // The hash is the blob's identity: bytes that no longer hash to it are not that blob, whatever the row says.
        String actual = sha256Hex(payload);
        if (!actual.equals(ref.sha256()) || payload.length != ref.size() || storedSize != ref.size()) {
            throw new BlobNotFoundException("model blob " + ref.sha256() + " in " + TABLE + " (" + where
                    + ") is corrupted: its stored bytes (" + payload.length + " bytes, recorded size " + storedSize
                    + ") hash to " + actual + ", the ref expects " + ref.size() + " bytes");
        }
        return payload;
    }

    @Override
    public boolean contains(ModelRef ref) {
        Objects.requireNonNull(ref, "ref");
        try (Connection c = dataSource.getConnection()) {
            return contains(c, ref.sha256());
        } catch (SQLException e) {
            throw new IllegalStateException("looking up model blob " + ref.shortHash() + " in " + where + " failed: "
                    + e.getMessage(), e);
        }
    }

    private static boolean contains(Connection c, String hash) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM " + TABLE + " WHERE hash = ?")) {
            q.setString(1, hash);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Lower-case hex SHA-256 of {@code bytes}, the form {@link ModelRef} holds. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
