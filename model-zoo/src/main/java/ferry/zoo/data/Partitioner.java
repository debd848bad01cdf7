package ferry.zoo.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Splits a dataset's sample indices between devices. Every sample lands in exactly one part, and the same seed
 * gives the same parts on every machine (only {@link SplittableRandom} is used, never global RNG state).
 */
public final class Partitioner {
    private Partitioner() {}

    /** IID: a seeded shuffle dealt into {@code parts} slices whose sizes differ by at most one. */
    public static List<int[]> iid(int size, int parts, long seed) {
        checkParts(parts, size);
        int[] all = permutation(size, new SplittableRandom(seed));
        List<int[]> out = new ArrayList<>(parts);
        int from = 0;
        for (int p = 0; p < parts; p++) {
            int len = size / parts + (p < size % parts ? 1 : 0);
            out.add(Arrays.copyOfRange(all, from, from + len));
            from += len;
        }
        return out;
    }

    /**
     * Label-skewed non-IID: for each class, proportions over the parts are drawn from Dirichlet(alpha) and that
     * class's samples are dealt accordingly. Small alpha gives each part few classes; large alpha tends to IID.
     */
    public static List<int[]> dirichlet(ImageDataset data, int parts, double alpha, long seed) {
        checkParts(parts, data.size());
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("Dirichlet alpha must be a positive finite number, got " + alpha);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < data.numClasses(); c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < data.size(); i++) {
            byClass.get(data.label(i)).add(i);
        }
        List<List<Integer>> parted = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            parted.add(new ArrayList<>());
        }
        for (List<Integer> members : byClass) {
            int[] idx = members.stream().mapToInt(Integer::intValue).toArray();
            shuffle(idx, rnd);
            double[] prop = dirichletSample(parts, alpha, rnd);
            // Cumulative cut points, rounded, so the slices tile the class exactly.
            double cum = 0;
            int from = 0;
            for (int p = 0; p < parts; p++) {
                cum += prop[p];
                int to = p == parts - 1 ? idx.length : (int) Math.round(cum * idx.length);
                to = Math.max(from, Math.min(idx.length, to));
                for (int k = from; k < to; k++) {
                    parted.get(p).add(idx[k]);
                }
                from = to;
            }
        }
        List<int[]> out = new ArrayList<>(parts);
        for (List<Integer> l : parted) {
            int[] a = l.stream().mapToInt(Integer::intValue).toArray();
            shuffle(a, rnd);
            out.add(a);
        }
        return out;
    }

    public static int[] permutation(int size, SplittableRandom rnd) {
        int[] a = new int[size];
        for (int i = 0; i < size; i++) {
            a[i] = i;
        }
        shuffle(a, rnd);
        return a;
    }

    static void shuffle(int[] a, SplittableRandom rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    static double[] dirichletSample(int k, double alpha, SplittableRandom rnd) {
        double[] g = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) {
            g[i] = gamma(alpha, rnd);
            sum += g[i];
        }
        if (sum == 0) { // every draw underflowed (tiny alpha): give the class to one part
            g[rnd.nextInt(k)] = 1;
            sum = 1;
        }
        for (int i = 0; i < k; i++) {
            g[i] /= sum;
        }
        return g;
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang; shapes below one are boosted and scaled back. */
    static double gamma(double shape, SplittableRandom rnd) {
        if (shape < 1) {
            double u = rnd.nextDouble();
            return gamma(shape + 1, rnd) * Math.pow(u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = gaussian(rnd);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rnd.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static void checkParts(int parts, int size) {
        if (parts < 1) {
            throw new IllegalArgumentException("need at least one part, got " + parts);
        }
        if (parts > size) {
            throw new IllegalArgumentException(parts + " parts for only " + size + " samples");
        }
    }
}
