package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;
import ferry.zoo.data.Partitioner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

/** What the selectors share: input checks, per-class quotas and the "hardest share plus a random rest" rule. */
final class Selection {
    private Selection() {}

    static void checkFraction(double fraction) {
        // Written so NaN fails too: every comparison with NaN is false.
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("selection fraction must be in (0, 1], got " + fraction);
        }
    }

    /** Refuses null or empty candidates, indices outside the dataset and duplicates, naming the first offender. */
    static void checkCandidates(ImageDataset data, int[] candidates) {
        if (data == null) {
            throw new IllegalArgumentException("no dataset to select from");
        }
        if (candidates == null || candidates.length == 0) {
            throw new IllegalArgumentException("no candidates to select from (" + data.name() + ")");
        }
        BitSet seen = new BitSet(data.size());
        for (int i = 0; i < candidates.length; i++) {
            int c = candidates[i];
            if (c < 0 || c >= data.size()) {
                throw new IllegalArgumentException("candidate " + i + " is index " + c + ", outside 0.."
                        + (data.size() - 1) + " of " + data.name());
            }
            if (seen.get(c)) {
                throw new IllegalArgumentException("candidate index " + c + " appears twice");
            }
            seen.set(c);
        }
    }

    /** Checks everything and returns how many candidates to keep. */
    static int size(ImageDataset data, int[] candidates, double fraction) {
        checkFraction(fraction);
        checkCandidates(data, candidates);
        return DataSelector.subsetSize(candidates.length, fraction);
    }

    static int[] sorted(int[] a) {
        int[] s = a.clone();
        Arrays.sort(s);
        return s;
    }

    /** Positions 0..n-1 of the candidates grouped by class, each group in candidate order. */
    static List<int[]> byClass(ImageDataset data, int[] candidates) {
        int[] count = new int[data.numClasses()];
        for (int c : candidates) {
            count[data.label(c)]++;
        }
        List<int[]> out = new ArrayList<>(count.length);
        for (int k = 0; k < count.length; k++) {
            out.add(new int[count[k]]);
        }
        int[] fill = new int[count.length];
        for (int p = 0; p < candidates.length; p++) {
            int k = data.label(candidates[p]);
            out.get(k)[fill[k]++] = p;
        }
        return out;
    }

    /**
     * Stratified quotas: class c gets k * n_c / n rounded by largest remainder, so they sum to k and no class gets
     * more than it has. Keeping each class's share keeps the device's label mix: a selector that drifted towards
     * the hard classes would teach the model a wrong prior. Ties go to the larger class, then the lower label.
     */
    static int[] quotas(int[] classSizes, int k) {
        long n = 0;
        for (int s : classSizes) {
            n += s;
        }
        int[] q = new int[classSizes.length];
        double[] rem = new double[classSizes.length];
        int given = 0;
        for (int c = 0; c < q.length; c++) {
            double ideal = (double) k * classSizes[c] / n;
            q[c] = (int) Math.floor(ideal);
            rem[c] = ideal - q[c];
            given += q[c];
        }
        while (given < k) {
            int best = -1;
            for (int c = 0; c < q.length; c++) {
                if (q[c] >= classSizes[c]) {
                    continue;
                }
                if (best < 0 || rem[c] > rem[best] || (rem[c] == rem[best] && classSizes[c] > classSizes[best])) {
                    best = c;
                }
            }
            q[best]++;
            rem[best] = -1; // each class gets at most one of the leftovers
            given++;
        }
        return q;
    }

    /** Hardness of some candidates, given by their positions in the candidate array; larger = harder. */
    interface Hardness {
        double[] of(int[] positions);
    }

    /**
     * Per class, its quota made of the {@code hardShare} hardest samples (highest hardness; ties broken by a seeded
     * shuffle, never by position) and, for the rest, a seeded random draw from the class's other samples.
     * The random rest is the "representatives" part: a subset of only the hardest samples overweights outliers and
     * ambiguous or mislabelled images and forgets what the typical member of a class looks like, which on small
     * fractions does worse than random; mixing both keeps the class's spread while spending more on the hard part.
     *
     * <p>With a finite {@code poolFactor} only a seeded random pool of {@code ceil(poolFactor * quota)} samples per
     * class is looked at (and scored): when hardness costs a forward pass of the model, scoring every sample each
     * round would cost more than training on the 10 % or 30 % kept, so the selector ranks a random pool a few
     * times the quota instead (the "large batch, then keep the hardest" idea), and the random rest comes from
     * the same pool.
     *
     * @param candidates sorted, checked candidate indices
     */
    static int[] hardPlusRandom(ImageDataset data, int[] candidates, int k, double hardShare, double poolFactor,
                                long seed, Hardness hardness) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] tieRank = Partitioner.permutation(candidates.length, rnd);
        List<int[]> groups = byClass(data, candidates);
        int[] sizes = new int[groups.size()];
        for (int c = 0; c < sizes.length; c++) {
            sizes[c] = groups.get(c).length;
        }
        int[] q = quotas(sizes, k);
        // Each class's pool: all of it, or a random draw (partial Fisher-Yates) a few times its quota.
        int[][] pool = new int[groups.size()][];
        int pooled = 0;
        for (int c = 0; c < groups.size(); c++) {
            int[] g = groups.get(c).clone();
            int m = q[c] == 0 ? 0 : (int) Math.min(g.length, Math.ceil(poolFactor * q[c]));
            for (int i = 0; i < m && m < g.length; i++) {
                int j = i + rnd.nextInt(g.length - i);
                int t = g[i];
                g[i] = g[j];
                g[j] = t;
            }
            pool[c] = Arrays.copyOf(g, m);
            pooled += m;
        }
        int[] positions = new int[pooled];
        int p = 0;
        for (int[] pc : pool) {
            for (int x : pc) {
                positions[p++] = x;
            }
        }
        double[] h = hardness.of(positions);
        if (h.length != positions.length) {
            throw new IllegalStateException(h.length + " hardness values for " + positions.length + " samples");
        }
        double[] hardOf = new double[candidates.length];
        for (int i = 0; i < positions.length; i++) {
            hardOf[positions[i]] = h[i];
        }
        int[] out = new int[k];
        int o = 0;
        for (int c = 0; c < pool.length; c++) {
            if (q[c] == 0) {
                continue;
            }
            Integer[] order = Arrays.stream(pool[c]).boxed().toArray(Integer[]::new);
            Arrays.sort(order, (a, b) -> {
                int byHardness = Double.compare(hardOf[b], hardOf[a]);
                return byHardness != 0 ? byHardness : Integer.compare(tieRank[a], tieRank[b]);
            });
            int hard = (int) Math.min(q[c], Math.round(hardShare * q[c]));
            for (int i = 0; i < hard; i++) {
                out[o++] = candidates[order[i]];
            }
            // The rest: a partial Fisher-Yates shuffle of the pool's remaining samples of this class.
            int[] rest = new int[order.length - hard];
            for (int i = 0; i < rest.length; i++) {
                rest[i] = order[hard + i];
            }
            for (int i = 0; i < q[c] - hard; i++) {
                int j = i + rnd.nextInt(rest.length - i);
                int t = rest[i];
                rest[i] = rest[j];
                rest[j] = t;
                out[o++] = candidates[rest[i]];
            }
        }
        Arrays.sort(out);
        return out;
    }

    static void checkShare(double hardShare) {
        if (!(hardShare >= 0 && hardShare <= 1)) {
            throw new IllegalArgumentException("hard share must be in [0, 1], got " + hardShare);
        }
    }

    static void checkPool(double poolFactor) {
        if (!(poolFactor >= 1)) {
            throw new IllegalArgumentException("pool factor must be at least 1 (infinity: every sample), got "
                    + poolFactor);
        }
    }
}
