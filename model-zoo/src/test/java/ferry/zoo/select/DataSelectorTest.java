package ferry.zoo.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.data.Partitioner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The selectors' contract: size, determinism, class balance, what "hard" means, and refusing bad input. */
class DataSelectorTest {

    /** A fixed, model-free stand-in for the current model: a pseudo-loss that depends only on the index. */
    static final SampleScorer STUB = (data, idx) -> {
        float[] s = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            s[i] = (float) ((idx[i] * 2654435761L % 1000) / 100.0);
        }
        return s;
    };

    static ImageDataset train() {
        return TestData.train();
    }

    /** 2000 candidates scattered over the training set, not in order. */
    static int[] candidates(int n, long seed) {
        return Arrays.copyOf(Partitioner.iid(train().size(), 1, seed).get(0), n);
    }

    static List<DataSelector> selecting() {
        return List.of(new RandomSelector(), new CentroidSelector(), new LossSelector());
    }

    @Test
    void sameSeedSameIndicesOtherSeedOtherIndices() {
        int[] cand = candidates(2000, 3);
        for (DataSelector s : selecting()) {
            int[] a = s.select(train(), cand, 0.3, 11, STUB);
            int[] b = s.select(train(), cand.clone(), 0.3, 11, STUB);
            assertArrayEquals(a, b, s.name() + ": same seed, same subset");
            int[] c = s.select(train(), cand, 0.3, 12, STUB);
            assertFalse(Arrays.equals(a, c), s.name() + ": another seed draws another random part");
        }
    }

    @Test
    void theSubsetDependsOnTheCandidateSetNotItsOrder() {
        int[] cand = candidates(1500, 5);
        int[] reversed = new int[cand.length];
        for (int i = 0; i < cand.length; i++) {
            reversed[i] = cand[cand.length - 1 - i];
        }
        for (DataSelector s : selecting()) {
            assertArrayEquals(s.select(train(), cand, 0.2, 7, STUB), s.select(train(), reversed, 0.2, 7, STUB),
                    s.name());
        }
    }

    @Test
    void sizeIsRoundedFractionAtLeastOneSortedDistinctSubset() {
        assertEquals(300, DataSelector.subsetSize(1000, 0.3));
        assertEquals(1000, DataSelector.subsetSize(1000, 1.0));
        assertEquals(1, DataSelector.subsetSize(1000, 1e-9));
        assertEquals(4, DataSelector.subsetSize(7, 0.5)); // 3.5 rounds up
        assertEquals(1, DataSelector.subsetSize(1, 0.01));
        for (DataSelector s : selecting()) {
            for (int n : new int[] {1, 7, 10, 999, 2000}) {
                int[] cand = candidates(n, n);
                for (double f : new double[] {0.001, 0.1, 0.3, 0.5, 1.0}) {
                    int[] got = s.select(train(), cand, f, 1, STUB);
                    String what = s.name() + " n=" + n + " f=" + f;
                    assertEquals(DataSelector.subsetSize(n, f), got.length, what);
                    Set<Integer> pool = new HashSet<>();
                    for (int c : cand) {
                        pool.add(c);
                    }
                    for (int i = 0; i < got.length; i++) {
                        assertTrue(pool.contains(got[i]), what + ": " + got[i] + " is not a candidate");
                        assertTrue(i == 0 || got[i - 1] < got[i], what + ": sorted and distinct");
                    }
                }
            }
        }
    }

    @Test
    void noneKeepsEverythingSorted() {
        int[] cand = candidates(500, 9);
        int[] all = DataSelectors.byName("none").select(train(), cand, 0.1, 1);
        int[] sorted = cand.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, all);
    }

    @Test
    void informativeSelectorsKeepEveryClassShare() {
        // A skewed device: 600 of class 0, 60 of each other class.
        List<Integer> pick = new ArrayList<>();
        int[] want = new int[10];
        Arrays.fill(want, 60);
        want[0] = 600;
        int[] have = new int[10];
        for (int i = 0; i < train().size() && pick.size() < 600 + 9 * 60; i++) {
            int c = train().label(i);
            if (have[c] < want[c]) {
                have[c]++;
                pick.add(i);
            }
        }
        int[] cand = pick.stream().mapToInt(Integer::intValue).toArray();
        for (DataSelector s : List.of(new CentroidSelector(), new LossSelector(), new CentroidSelector(1.0),
                new LossSelector(1.0, Double.POSITIVE_INFINITY))) {
            for (double f : new double[] {0.1, 0.3, 0.5}) {
                int[] got = s.select(train(), cand, f, 2, STUB);
                int[] per = new int[10];
                for (int g : got) {
                    per[train().label(g)]++;
                }
                for (int c = 0; c < 10; c++) {
                    double ideal = f * want[c];
                    assertTrue(Math.abs(per[c] - ideal) <= 1, s.name() + " f=" + f + ": class " + c + " has "
                            + per[c] + ", its share is " + ideal);
                }
            }
        }
    }

    @Test
    void quotasSumToTheSubsetAndNeverExceedAClass() {
        SplittableRandom rnd = new SplittableRandom(4);
        for (int t = 0; t < 500; t++) {
            int[] sizes = new int[1 + rnd.nextInt(12)];
            int n = 0;
            for (int c = 0; c < sizes.length; c++) {
                sizes[c] = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(50);
                n += sizes[c];
            }
            if (n == 0) {
                continue;
            }
            int k = 1 + rnd.nextInt(n);
            int[] q = Selection.quotas(sizes, k);
            assertEquals(k, Arrays.stream(q).sum(), Arrays.toString(sizes) + " k=" + k);
            for (int c = 0; c < sizes.length; c++) {
                assertTrue(q[c] >= 0 && q[c] <= sizes[c], "class " + c + ": " + q[c] + " of " + sizes[c]);
                assertTrue(Math.abs(q[c] - (double) k * sizes[c] / n) < 1, "largest remainder stays within one");
            }
        }
    }

    @Test
    void lossSelectorKeepsTheHighestScoresOfEachClass() {
        int[] cand = candidates(1000, 6);
        float[] s = STUB.scores(train(), cand);
        int[] got = new LossSelector(1.0, Double.POSITIVE_INFINITY).select(train(), cand, 0.2, 3, STUB);
        Set<Integer> chosen = new HashSet<>();
        for (int g : got) {
            chosen.add(g);
        }
        // Within each class every chosen sample scores at least as high as every one left out.
        for (int c = 0; c < 10; c++) {
            float minIn = Float.POSITIVE_INFINITY;
            float maxOut = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < cand.length; i++) {
                if (train().label(cand[i]) != c) {
                    continue;
                }
                if (chosen.contains(cand[i])) {
                    minIn = Math.min(minIn, s[i]);
                } else {
                    maxOut = Math.max(maxOut, s[i]);
                }
            }
            assertTrue(minIn >= maxOut, "class " + c + ": kept " + minIn + " < dropped " + maxOut);
        }
        // With half the quota hard, the top half of each class's quota is in, and the rest is not all top.
        int[] mixed = new LossSelector(0.5, Double.POSITIVE_INFINITY).select(train(), cand, 0.2, 3, STUB);
        int common = 0;
        for (int m : mixed) {
            common += chosen.contains(m) ? 1 : 0;
        }
        assertTrue(common >= got.length / 2 - 10, "the hard half is kept: " + common + " of " + got.length);
        assertTrue(common < got.length - 20, "the rest is drawn at random, not the next hardest: " + common);
    }

    @Test
    void aFinitePoolScoresOnlyAFewTimesTheSubset() {
        int[] cand = candidates(2000, 12);
        int[] asked = new int[1];
        SampleScorer counting = (d, idx) -> {
            asked[0] += idx.length;
            return STUB.scores(d, idx);
        };
        int[] got = new LossSelector(0.5, 2).select(train(), cand, 0.1, 4, counting);
        assertEquals(200, got.length);
        // Per class ceil(2 * quota): at most 2 * 200 + one per class.
        assertTrue(asked[0] >= 400 && asked[0] <= 410, asked[0] + " scored");
        asked[0] = 0;
        new LossSelector(0.5, Double.POSITIVE_INFINITY).select(train(), cand, 0.1, 4, counting);
        assertEquals(2000, asked[0]);
        assertThrows(IllegalArgumentException.class, () -> new LossSelector(0.5, 0.9));
    }

    @Test
    void centroidHardSamplesSitNearerOtherClasses() {
        int[] cand = candidates(3000, 8);
        double[] h = CentroidSelector.hardness(train(), cand);
        int[] hard = new CentroidSelector(1.0).select(train(), cand, 0.1, 1);
        int[] easy = new CentroidSelector(0.0).select(train(), cand, 0.1, 1);
        java.util.Map<Integer, Double> byIndex = new java.util.HashMap<>();
        for (int i = 0; i < cand.length; i++) {
            byIndex.put(cand[i], h[i]);
        }
        double meanHard = Arrays.stream(hard).mapToDouble(byIndex::get).average().orElseThrow();
        double meanRandom = Arrays.stream(easy).mapToDouble(byIndex::get).average().orElseThrow();
        assertTrue(meanHard > meanRandom + 0.5, "hard " + meanHard + " vs random " + meanRandom);
        // Pooling averages 4x4 blocks of a 28x28 image into 7x7 cells.
        float[][] f = CentroidSelector.pooled(train(), new int[] {0});
        assertEquals(49, f[0].length);
        float[] px = train().batch(new int[] {0}).inputs().data();
        double cell = 0;
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                cell += px[(8 + y) * 28 + 12 + x];
            }
        }
        assertEquals(cell / 16, f[0][2 * 7 + 3], 1e-5);
    }

    @Test
    void badFractionsAreRefusedWithTheValue() {
        int[] cand = candidates(100, 1);
        for (DataSelector s : List.of(new RandomSelector(), new CentroidSelector(), new LossSelector(),
                DataSelectors.NONE)) {
            for (double f : new double[] {0, -0.5, 1.0001, Double.NaN, Double.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> s.select(train(), cand, f, 1, STUB), s.name() + " f=" + f);
                assertTrue(e.getMessage().contains("(0, 1]") && e.getMessage().contains(String.valueOf(f)),
                        e.getMessage());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> DataSelectors.checkFraction(0));
        assertEquals(0.3, DataSelectors.checkFraction(0.3));
    }

    @Test
    void badCandidatesAreRefused() {
        for (DataSelector s : List.of(new RandomSelector(), new CentroidSelector(), new LossSelector(),
                DataSelectors.NONE)) {
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> s.select(train(), new int[0], 0.5, 1, STUB));
            assertTrue(empty.getMessage().contains("no candidates"), empty.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.select(train(), null, 0.5, 1, STUB));
            IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
                    () -> s.select(train(), new int[] {1, 60_000}, 0.5, 1, STUB));
            assertTrue(out.getMessage().contains("60000"), out.getMessage());
            IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                    () -> s.select(train(), new int[] {-1}, 0.5, 1, STUB));
            assertTrue(neg.getMessage().contains("-1"), neg.getMessage());
            IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                    () -> s.select(train(), new int[] {4, 5, 4}, 0.5, 1, STUB));
            assertTrue(dup.getMessage().contains("twice"), dup.getMessage());
        }
    }

    @Test
    void lossSelectorNeedsAScorerThatAnswersForEveryCandidate() {
        int[] cand = candidates(50, 2);
        LossSelector loss = new LossSelector();
        assertTrue(loss.needsScorer());
        assertFalse(new CentroidSelector().needsScorer());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> loss.select(train(), cand, 0.5, 1));
        assertTrue(none.getMessage().contains("scorer"), none.getMessage());
        assertThrows(IllegalStateException.class, () -> loss.select(train(), cand, 0.5, 1, (d, i) -> new float[3]));
        assertThrows(IllegalStateException.class, () -> loss.select(train(), cand, 0.5, 1, (d, i) -> {
            float[] s = new float[i.length];
            s[7] = Float.NaN;
            return s;
        }));
        assertThrows(IllegalArgumentException.class, () -> new LossSelector(1.5, 2));
        assertThrows(IllegalArgumentException.class, () -> new CentroidSelector(Double.NaN));
    }

    @Test
    void registryKnowsItsNamesAndRefusesOthers() {
        for (String n : DataSelectors.NAMES) {
            assertEquals(n, DataSelectors.byName(n).name());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataSelectors.byName("kmeans"));
        assertTrue(e.getMessage().contains("'kmeans'") && e.getMessage().contains("centroid"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataSelectors.byName(null));
        assertThrows(IllegalArgumentException.class, () -> DataSelectors.byName("Random"));
    }
}
