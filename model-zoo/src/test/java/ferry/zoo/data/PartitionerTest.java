package ferry.zoo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PartitionerTest {

    static void assertExactCover(List<int[]> parts, int size) {
        int[] seen = new int[size];
        for (int[] p : parts) {
            for (int i : p) {
                seen[i]++;
            }
        }
        for (int i = 0; i < size; i++) {
            assertEquals(1, seen[i], "sample " + i + " placed " + seen[i] + " times");
        }
    }

    @Test
    void iidPlacesEverySampleOnceInBalancedParts() {
        List<int[]> parts = Partitioner.iid(1003, 4, 11);
        assertExactCover(parts, 1003);
        for (int[] p : parts) {
            assertTrue(p.length == 250 || p.length == 251);
        }
        assertArrayEquals(parts.get(2), Partitioner.iid(1003, 4, 11).get(2), "deterministic for a seed");
        assertFalse(java.util.Arrays.equals(parts.get(2), Partitioner.iid(1003, 4, 12).get(2)));
    }

    @Test
    void dirichletPlacesEverySampleOnceAndSkewsLabels() {
        ImageDataset train = TestData.train();
        List<int[]> skewed = Partitioner.dirichlet(train, 8, 0.1, 5);
        assertExactCover(skewed, train.size());
        for (int p = 0; p < 8; p++) {
            assertArrayEquals(skewed.get(p), Partitioner.dirichlet(train, 8, 0.1, 5).get(p));
        }
        // small alpha: some part is dominated by few classes; large alpha: every part sees every class
        double maxShare = 0;
        for (int[] p : skewed) {
            maxShare = Math.max(maxShare, topClassShare(train, p));
        }
        assertTrue(maxShare > 0.5, "alpha 0.1 should give a part dominated by one class, got " + maxShare);
        List<int[]> even = Partitioner.dirichlet(train, 8, 1000, 5);
        assertExactCover(even, train.size());
        for (int[] p : even) {
            assertEquals(10, classes(train, p).size());
            assertTrue(topClassShare(train, p) < 0.2);
        }
    }

    @Test
    void refusesImpossibleRequests() {
        assertThrows(IllegalArgumentException.class, () -> Partitioner.iid(3, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.iid(3, 0, 1));
        ImageDataset tiny = TestData.train().head(50);
        assertThrows(IllegalArgumentException.class, () -> Partitioner.dirichlet(tiny, 2, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.dirichlet(tiny, 2, Double.NaN, 1));
    }

    @Test
    void batchPlanVisitsEachSampleOncePerEpochAndIsSeeded() {
        int[] idx = Partitioner.iid(100, 2, 3).get(0);
        BatchPlan plan = new BatchPlan(idx, 16, 9);
        assertEquals(4, plan.batchesPerEpoch());
        Set<Integer> epoch0 = new HashSet<>();
        Set<Integer> epoch1 = new HashSet<>();
        for (int k = 0; k < 4; k++) {
            for (int i : plan.batch(k)) {
                assertTrue(epoch0.add(i));
            }
            for (int i : plan.batch(4 + k)) {
                assertTrue(epoch1.add(i));
            }
        }
        assertEquals(50, epoch0.size());
        assertEquals(epoch0, epoch1);
        assertFalse(java.util.Arrays.equals(plan.batch(0), plan.batch(4)), "epochs are shuffled differently");
        assertArrayEquals(plan.batch(5), new BatchPlan(idx, 16, 9).batch(5), "a cursor names the same batch");
    }

    static Set<Integer> classes(ImageDataset d, int[] part) {
        Set<Integer> s = new HashSet<>();
        for (int i : part) {
            s.add(d.label(i));
        }
        return s;
    }

    static double topClassShare(ImageDataset d, int[] part) {
        int[] c = new int[10];
        for (int i : part) {
            c[d.label(i)]++;
        }
        int max = 0;
        for (int x : c) {
            max = Math.max(max, x);
        }
        return part.length == 0 ? 0 : (double) max / part.length;
    }
}
