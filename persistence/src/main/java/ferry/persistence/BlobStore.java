package ferry.persistence;

/**
 * Content-addressed storage for large model blobs. Blocking: call it from a dispatcher meant for blocking work,
 * never from an actor's own thread.
 */
public interface BlobStore {
    /** Stores the bytes (idempotently: the same bytes give the same ref and are stored once). */
    ModelRef put(byte[] bytes);

    /** The bytes of a ref; verified against the hash. Throws {@link BlobNotFoundException} for unknown refs. */
    byte[] get(ModelRef ref);

    boolean contains(ModelRef ref);

    /** A ref that is missing, or whose stored bytes no longer match their hash. */
    class BlobNotFoundException extends RuntimeException {
        public BlobNotFoundException(String message) {
            super(message);
        }
    }
}
