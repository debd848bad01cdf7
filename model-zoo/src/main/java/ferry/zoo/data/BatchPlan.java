package ferry.zoo.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The order in which one device visits its samples: epoch e is a permutation seeded by (seed, e), cut into batches.
 * A batch is named by a single cursor (batches done so far), so state that carries the cursor can resume exactly
 * where it stopped on any machine.
 */
public final class BatchPlan {
    private final int[] indices;
    private final int batchSize;
    private final long seed;
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    public BatchPlan(int[] indices, int batchSize, long seed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        if (indices.length == 0) {
            throw new IllegalArgumentException("a batch plan needs at least one sample");
        }
        this.indices = indices.clone();
        this.batchSize = batchSize;
        this.seed = seed;
    }

    public int batchesPerEpoch() {
        return (indices.length + batchSize - 1) / batchSize;
    }

    public int samples() {
        return indices.length;
    }

    /** The dataset indices of the batch at {@code cursor} (0-based over all epochs). */
    public synchronized int[] batch(long cursor) {
        int per = batchesPerEpoch();
        int epoch = Math.toIntExact(cursor / per);
        int k = (int) (cursor % per);
        if (epoch != cachedEpoch) {
            SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + epoch);
            int[] perm = Partitioner.permutation(indices.length, rnd);
            cachedOrder = new int[indices.length];
            for (int i = 0; i < perm.length; i++) {
                cachedOrder[i] = indices[perm[i]];
            }
            cachedEpoch = epoch;
        }
        int from = k * batchSize;
        return Arrays.copyOfRange(cachedOrder, from, Math.min(indices.length, from + batchSize));
    }
}
