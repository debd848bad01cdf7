package ferry.persistence;

/**
 * A reference to a model blob (weights, optimizer state) in the content-addressed {@link BlobStore}: the blob's
 * SHA-256 in lower-case hex and its size. Events carry refs, never the floats themselves.
 */
public record ModelRef(String sha256, long size) implements CborSerializable {
    public ModelRef {
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("a model ref needs a 64-hex-digit SHA-256, got " + sha256);
        }
        if (size < 0) {
            throw new IllegalArgumentException("blob size must be >= 0, got " + size);
        }
    }

    public String shortHash() {
        return sha256.substring(0, 12);
    }
}
