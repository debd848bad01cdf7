package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;
import ferry.zoo.data.Partitioner;
import java.util.SplittableRandom;

/**
 * One local epoch on a fraction of a device's samples, each batch chosen just before it is trained on: step
 * {@code s} takes the next window of {@code pool} candidates of a seeded permutation, lets the selector keep a
 * batch of them (with the model as it is at that step), and trains on those. Over the epoch
 * {@code round(fraction * n)} samples are trained on, as with a per-round subset, and about {@code poolFactor}
 * times as many are scored.
 *
 * <p>Why per batch and not once per round: a subset ranked by loss once, at the start of a round, is stale after a
 * few steps (the model learns exactly those samples first) and the rest of the round is spent on what is already
 * learnt; measured on VGG-5 / Fashion-MNIST, such per-round loss selection did worse than a random subset of the
 * same size, while choosing each batch from a fresh pool (as Selective-Backprop does) did better. The pool is a
 * random window, so every candidate gets its chance in turn and the selection cannot lock onto a fixed subset.
 *
 * <p>Deterministic: the same candidates, seed and scores give the same batches. Not thread-safe.
 */
public final class OnlineSelection {
    private final DataSelector selector;
    private final ImageDataset data;
    private final int[] order;
    private final int pool;
    private final int keep;
    private final int steps;
    private final int total;
    private final double poolFactor;
    private final long seed;
    private long scored;

    /**
     * @param fraction   the share of the candidates to train on in this epoch, in (0, 1]
     * @param batchSize  samples per training step
     * @param poolFactor candidates looked at per sample kept, at least 1 (1: no choice, every pooled sample is kept)
     */
    public OnlineSelection(DataSelector selector, ImageDataset data, int[] candidates, double fraction,
                           int batchSize, double poolFactor, long seed) {
        if (selector == null) {
            throw new IllegalArgumentException("no selector given");
        }
        Selection.checkFraction(fraction);
        Selection.checkCandidates(data, candidates);
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        if (!(poolFactor >= 1) || Double.isInfinite(poolFactor)) {
            throw new IllegalArgumentException("pool factor must be finite and at least 1, got " + poolFactor);
        }
        this.selector = selector;
        this.data = data;
        int n = candidates.length;
        // Sorted first, so the epoch depends on the candidate set and the seed, not on the order given.
        int[] sorted = Selection.sorted(candidates);
        int[] perm = Partitioner.permutation(n, new SplittableRandom(seed));
        this.order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = sorted[perm[i]];
        }
        this.pool = (int) Math.min(n, Math.ceil(poolFactor * batchSize));
        this.keep = (int) Math.max(1, Math.min(batchSize, Math.round(pool / poolFactor)));
        // Exactly the per-round subset size in all, so a per-batch and a per-round selection train as many samples;
        // the last step keeps what is left, from a pool to match.
        this.total = DataSelector.subsetSize(n, fraction);
        this.steps = (total + keep - 1) / keep;
        this.poolFactor = poolFactor;
        this.seed = seed;
    }

    /** Training steps in this epoch. */
    public int steps() {
        return steps;
    }

    /** Samples kept per step (the last step may keep fewer). */
    public int batchSize() {
        return keep;
    }

    /** Samples kept over the whole epoch: round(fraction * candidates), at least one. */
    public int samples() {
        return total;
    }

    /** Candidates looked at per step. */
    public int poolSize() {
        return pool;
    }

    /** Candidates handed to the selector so far (what a scorer was asked about, for a selector that scores). */
    public long scored() {
        return scored;
    }

    /** The sorted sample indices to train on at {@code step} (0-based); the scorer sees the model as it is now. */
    public int[] batch(int step, SampleScorer scorer) {
        if (step < 0 || step >= steps) {
            throw new IllegalArgumentException("step " + step + " is not in 0.." + (steps - 1));
        }
        int k = Math.min(keep, total - step * keep);
        // The last, smaller batch gets a pool to match, so the pools stay poolFactor times what is kept.
        int size = k == keep ? pool : (int) Math.min(pool, Math.ceil(poolFactor * k));
        int[] window = new int[size];
        long from = (long) step * pool;
        for (int i = 0; i < size; i++) { // wraps around: a second pass when the pools add up to more than n
            window[i] = order[(int) ((from + i) % order.length)];
        }
        scored += size;
        return selector.select(data, window, (double) k / size, seed * 1_000_003L + step, scorer);
    }
}
