package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;

/**
 * Scores the candidates with the current model (forward only, no gradients) and keeps, per class, a share of the
 * highest-loss samples plus a random rest: the samples the model still gets wrong carry most of the gradient, and
 * the random rest keeps the typical ones and the class's spread in view.
 *
 * <p>How fresh the scores are matters more than how they are used. Ranked once at the start of a round, the
 * chosen samples are learnt within a few steps and the rest of the round is spent on them anyway; measured on
 * VGG-5 / Fashion-MNIST that did worse than a random subset of the same size. Used through
 * {@link OnlineSelection}, which asks for one batch at a time out of a small random pool and so always ranks with
 * the model as it is, it did better than random. Use it per batch; per round it is only the simple baseline.
 *
 * <p>The scores come from a {@link SampleScorer} that runs on the device; in split learning that means the device
 * also holds a copy of the server half for the forward pass (downloaded, say, at the start of its turn: a cost a
 * benchmark must count). Only the chosen indices come out.
 */
public final class LossSelector implements DataSelector {
    public static final double DEFAULT_HARD_SHARE = 0.5;
    /** Scores every candidate; a finite factor scores a random pool that many times the quota per class. */
    public static final double DEFAULT_POOL_FACTOR = Double.POSITIVE_INFINITY;

    private final double hardShare;
    private final double poolFactor;

    public LossSelector() {
        this(DEFAULT_HARD_SHARE, DEFAULT_POOL_FACTOR);
    }

    /**
     * @param hardShare  the share of each class's quota taken by highest loss, the rest drawn at random
     * @param poolFactor how many times the quota to score per class ({@code Double.POSITIVE_INFINITY}: all)
     */
    public LossSelector(double hardShare, double poolFactor) {
        Selection.checkShare(hardShare);
        Selection.checkPool(poolFactor);
        this.hardShare = hardShare;
        this.poolFactor = poolFactor;
    }

    @Override
    public String name() {
        return "loss";
    }

    @Override
    public boolean needsScorer() {
        return true;
    }

    public double hardShare() {
        return hardShare;
    }

    public double poolFactor() {
        return poolFactor;
    }

    @Override
    public int[] select(ImageDataset data, int[] candidates, double fraction, long seed, SampleScorer scorer) {
        int k = Selection.size(data, candidates, fraction);
        if (scorer == null) {
            throw new IllegalArgumentException("the loss selector needs a scorer (the current model) to rank samples");
        }
        int[] cand = Selection.sorted(candidates); // a function of the set, not of the order it came in
        return Selection.hardPlusRandom(data, cand, k, hardShare, poolFactor, seed, pos -> {
            int[] idx = new int[pos.length];
            for (int i = 0; i < pos.length; i++) {
                idx[i] = cand[pos[i]];
            }
            float[] s = scorer.scores(data, idx.clone());
            if (s == null || s.length != idx.length) {
                throw new IllegalStateException("scorer returned " + (s == null ? "nothing" : s.length + " scores")
                        + " for " + idx.length + " samples");
            }
            double[] h = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                if (Float.isNaN(s[i])) {
                    throw new IllegalStateException("scorer returned NaN for sample " + idx[i]
                            + " (a diverged model?)");
                }
                h[i] = s[i];
            }
            return h;
        });
    }
}
