package ferry.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.persistence.BlobStore.BlobNotFoundException;
import ferry.persistence.FerryConfig.Journal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** The content-addressed blob store on both back ends. */
class JdbcBlobStoreTest {
    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void storesMegabytesOnceAndReturnsThemVerified(Journal journal, @TempDir Path tmp) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp); FerryDatabase db = backend.openDatabase()) {
            db.ensureSchema();
            BlobStore store = db.blobStore();
            byte[] weights = random(3 * 1024 * 1024 + 17, 1);

            ModelRef ref = store.put(weights);
            assertEquals(JdbcBlobStore.sha256Hex(weights), ref.sha256());
            assertEquals(weights.length, ref.size());
            assertTrue(store.contains(ref));
            assertArrayEquals(weights, store.get(ref));

            // Same bytes (a fresh copy), same ref, still one row.
            assertEquals(ref, store.put(weights.clone()));
            assertEquals(1, rows(db));

            // Different bytes, different ref; the empty blob is a blob too.
            byte[] other = weights.clone();
            other[other.length / 2] ^= 1;
            ModelRef otherRef = store.put(other);
            assertFalse(otherRef.equals(ref));
            assertArrayEquals(other, store.get(otherRef));
            ModelRef empty = store.put(new byte[0]);
            assertEquals(0, store.get(empty).length);
            assertEquals(3, rows(db));
        }
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void unknownRefsAndCorruptedRowsAreNotFound(Journal journal, @TempDir Path tmp) throws Exception {
        try (TestBackend backend = TestBackend.open(journal, tmp); FerryDatabase db = backend.openDatabase()) {
            db.ensureSchema();
            BlobStore store = db.blobStore();

            ModelRef unknown = new ModelRef(JdbcBlobStore.sha256Hex(new byte[] {9}), 1);
            assertFalse(store.contains(unknown));
            BlobNotFoundException missing = assertThrows(BlobNotFoundException.class, () -> store.get(unknown));
            assertTrue(missing.getMessage().contains(unknown.sha256())
                    && missing.getMessage().contains("not in the blob store"), missing.getMessage());

            byte[] bytes = random(64 * 1024, 2);
            ModelRef ref = store.put(bytes);
            // A ref with the right hash but the wrong size is not this blob either.
            ModelRef wrongSize = new ModelRef(ref.sha256(), ref.size() + 1);
            assertThrows(BlobNotFoundException.class, () -> store.get(wrongSize));

            // Flip one byte of the stored payload behind the store's back.
            byte[] flipped = bytes.clone();
            flipped[100] ^= 0x40;
            try (Connection c = db.dataSource().getConnection();
                    PreparedStatement u = c.prepareStatement("UPDATE ferry_model_blob SET payload = ? WHERE hash = ?")) {
                u.setBytes(1, flipped);
                u.setString(2, ref.sha256());
                assertEquals(1, u.executeUpdate());
            }
            assertTrue(store.contains(ref));
            BlobNotFoundException corrupt = assertThrows(BlobNotFoundException.class, () -> store.get(ref));
            assertTrue(corrupt.getMessage().contains("corrupted") && corrupt.getMessage().contains(ref.sha256()),
                    corrupt.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Journal.class)
    void concurrentPutsOfTheSameBytesAllSucceed(Journal journal, @TempDir Path tmp) throws Exception {
        int writers = 6;
        try (TestBackend backend = TestBackend.open(journal, tmp); FerryDatabase db = backend.openDatabase()) {
            db.ensureSchema();
            byte[] bytes = random(512 * 1024, 3);
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            try {
                // The barrier lines the writers up so that several pass the "already there?" look together
                // and race on the insert.
                CyclicBarrier start = new CyclicBarrier(writers);
                List<Future<ModelRef>> results = new ArrayList<>();
                for (int i = 0; i < writers; i++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        return db.blobStore().put(bytes.clone());
                    }));
                }
                Set<ModelRef> refs = results.stream().map(f -> {
                    try {
                        return f.get(60, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError("a concurrent put failed", e);
                    }
                }).collect(Collectors.toSet());
                assertEquals(1, refs.size());
                assertEquals(1, rows(db));
                assertArrayEquals(bytes, db.blobStore().get(refs.iterator().next()));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static long rows(FerryDatabase db) throws Exception {
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement q = c.prepareStatement("SELECT COUNT(*) FROM ferry_model_blob");
                ResultSet rs = q.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
