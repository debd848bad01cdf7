package ferry.zoo.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.ImageDataset;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Per-batch selection: how many steps and samples, which pools, determinism, and refusing bad settings. */
class OnlineSelectionTest {

    static ImageDataset train() {
        return TestData.train();
    }

    @Test
    void anEpochTrainsTheFractionAndScoresPoolFactorTimesAsMany() {
        int[] cand = DataSelectorTest.candidates(1500, 1);
        OnlineSelection os = new OnlineSelection(new LossSelector(), train(), cand, 0.3, 32, 2, 5);
        assertEquals(64, os.poolSize());
        assertEquals(32, os.batchSize());
        assertEquals(450, os.samples());
        assertEquals(15, os.steps()); // 14 batches of 32 and one of 2
        Set<Integer> pool = new HashSet<>();
        for (int c : cand) {
            pool.add(c);
        }
        Set<Integer> seen = new HashSet<>();
        for (int s = 0; s < os.steps(); s++) {
            int[] b = os.batch(s, DataSelectorTest.STUB);
            assertEquals(s < 14 ? 32 : 2, b.length);
            for (int i = 0; i < b.length; i++) {
                assertTrue(pool.contains(b[i]), b[i] + " is not a candidate");
                assertTrue(i == 0 || b[i - 1] < b[i], "sorted and distinct");
                // 14 pools of 64 and one of 4 are 900 of 1500 candidates: no window overlaps another.
                assertTrue(seen.add(b[i]), b[i] + " trained twice in one epoch");
            }
        }
        assertEquals(14 * 64 + 4, os.scored());
        assertEquals(450, seen.size());
        // Full data with no choice: every candidate once (the last pool wraps around to fill a whole batch).
        OnlineSelection all = new OnlineSelection(new RandomSelector(), train(), cand, 1.0, 32, 1, 5);
        assertEquals(47, all.steps()); // 46 batches of 32 and one of 28
        assertEquals(32, all.batchSize());
        Set<Integer> every = new HashSet<>();
        int count = 0;
        for (int s = 0; s < all.steps(); s++) {
            for (int i : all.batch(s, null)) {
                every.add(i);
                count++;
            }
        }
        assertEquals(pool, every);
        assertEquals(1500, count, "each once");
    }

    @Test
    void sameSeedSameBatchesAndOrderOfCandidatesDoesNotMatter() {
        int[] cand = DataSelectorTest.candidates(800, 2);
        int[] reversed = new int[cand.length];
        for (int i = 0; i < cand.length; i++) {
            reversed[i] = cand[cand.length - 1 - i];
        }
        OnlineSelection a = new OnlineSelection(new LossSelector(), train(), cand, 0.5, 16, 3, 9);
        OnlineSelection b = new OnlineSelection(new LossSelector(), train(), reversed, 0.5, 16, 3, 9);
        OnlineSelection c = new OnlineSelection(new LossSelector(), train(), cand, 0.5, 16, 3, 10);
        boolean differs = false;
        for (int s = 0; s < a.steps(); s++) {
            int[] x = a.batch(s, DataSelectorTest.STUB);
            assertArrayEquals(x, b.batch(s, DataSelectorTest.STUB), "step " + s);
            differs |= !Arrays.equals(x, c.batch(s, DataSelectorTest.STUB));
        }
        assertTrue(differs, "another seed, other pools");
    }

    @Test
    void theLossSelectorKeepsTheHardestOfEachPool() {
        int[] cand = DataSelectorTest.candidates(1000, 3);
        OnlineSelection os = new OnlineSelection(new LossSelector(1.0, Double.POSITIVE_INFINITY), train(), cand,
                0.2, 20, 4, 1);
        // Scores from the stub: within a pool of 80, per class, the kept ones must outscore the dropped ones.
        float[] all = DataSelectorTest.STUB.scores(train(), cand);
        java.util.Map<Integer, Float> score = new java.util.HashMap<>();
        for (int i = 0; i < cand.length; i++) {
            score.put(cand[i], all[i]);
        }
        int[][] pools = new int[1][];
        SampleScorer spy = (d, idx) -> {
            pools[0] = idx.clone();
            return DataSelectorTest.STUB.scores(d, idx);
        };
        for (int s = 0; s < os.steps(); s++) {
            int[] kept = os.batch(s, spy);
            // The whole pool is scored, except classes that get no place in this batch.
            assertTrue(pools[0].length > 40 && pools[0].length <= 80, pools[0].length + " scored");
            Set<Integer> in = new HashSet<>();
            for (int k : kept) {
                in.add(k);
            }
            for (int p : pools[0]) {
                for (int k : kept) {
                    if (!in.contains(p) && train().label(p) == train().label(k)) {
                        assertTrue(score.get(k) >= score.get(p), "kept " + k + " below dropped " + p);
                    }
                }
            }
        }
    }

    @Test
    void badSettingsAreRefused() {
        int[] cand = DataSelectorTest.candidates(100, 4);
        DataSelector r = new RandomSelector();
        assertThrows(IllegalArgumentException.class, () -> new OnlineSelection(r, train(), cand, 0, 10, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new OnlineSelection(null, train(), cand, 0.5, 10, 2, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new OnlineSelection(r, train(), cand, Double.NaN, 10, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new OnlineSelection(r, train(), cand, 1.5, 10, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new OnlineSelection(r, train(), cand, 0.5, 0, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new OnlineSelection(r, train(), cand, 0.5, 10, 0.5, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new OnlineSelection(r, train(), cand, 0.5, 10, Double.POSITIVE_INFINITY, 1));
        assertThrows(IllegalArgumentException.class, () -> new OnlineSelection(r, train(), new int[0], 0.5, 10, 2, 1));
        OnlineSelection os = new OnlineSelection(r, train(), cand, 0.5, 10, 2, 1);
        assertEquals(5, os.steps());
        assertEquals(50, os.samples());
        assertThrows(IllegalArgumentException.class, () -> os.batch(5, null));
        assertThrows(IllegalArgumentException.class, () -> os.batch(-1, null));
        assertFalse(os.batch(4, null).length == 0);
        // Fewer candidates than a pool: the pool is all of them, and at least one sample is kept.
        OnlineSelection tiny = new OnlineSelection(r, train(), new int[] {3, 1, 2}, 0.1, 32, 2, 1);
        assertEquals(3, tiny.poolSize());
        assertEquals(2, tiny.batchSize());
        assertEquals(1, tiny.steps());
        assertEquals(1, tiny.batch(0, null).length);
    }
}
