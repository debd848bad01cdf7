package ferry.zoo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-sample losses: they average to the evaluator's loss, split equals whole, and scoring changes nothing. */
class SampleLossesTest {

    @Test
    void perSampleLossesAverageToTheEvaluatorsLossAndSplitEqualsWhole() {
        ImageDataset test = TestData.test().head(300);
        ModelSpec spec = ModelSpecs.vgg5(test.sampleShape(), 10);
        int[] idx = new int[test.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        try (MonolithicModel mono = new MonolithicModel(spec, 3, SgdConfig.DEFAULT);
             ClientHalf client = new ClientHalf(spec, 4, 3, SgdConfig.DEFAULT);
             ServerHalf server = new ServerHalf(spec, 4, 3, SgdConfig.DEFAULT)) {
            // A few steps so the running statistics and weights are not the initial ones.
            for (int s = 0; s < 3; s++) {
                mono.step(TestData.train().range(s * 32, s * 32 + 32));
            }
            ModelState before = mono.state();
            float[] l = SampleLosses.of(List.of(mono), test, idx, 128);
            assertEquals(idx.length, l.length);
            double mean = 0;
            for (float x : l) {
                assertTrue(x >= 0 && Float.isFinite(x), "a cross-entropy is finite and non-negative: " + x);
                mean += x / l.length;
            }
            assertEquals(Evaluator.evaluate(List.of(mono), test, 100).loss(), mean, 1e-4);
            assertArrayEquals(l, SampleLosses.of(List.of(mono), test, idx, 7), 1e-5f, "batching does not matter");
            ModelState after = mono.state();
            for (int i = 0; i < before.weights().size(); i++) { // running statistics included
                assertTrue(before.weights().get(i).tensor().bitEquals(after.weights().get(i).tensor()),
                        "scoring left " + before.weights().get(i).name() + " as it was");
            }
            assertEquals(before.cursor(), after.cursor());
            float[] split = SampleLosses.of(List.of(client, server), test, idx, 128);
            try (MonolithicModel fresh = new MonolithicModel(spec, 3, SgdConfig.DEFAULT)) {
                assertArrayEquals(SampleLosses.of(List.of(fresh), test, idx, 128), split, 1e-5f,
                        "client half then server half score as the whole model");
            }
            // Order follows the indices given.
            float[] two = SampleLosses.of(List.of(mono), test, new int[] {5, 2}, 128);
            assertEquals(l[5], two[0], 1e-5f);
            assertEquals(l[2], two[1], 1e-5f);
            assertThrows(IllegalArgumentException.class, () -> SampleLosses.of(List.of(), test, idx, 10));
            assertThrows(IllegalArgumentException.class, () -> SampleLosses.of(List.of(mono), test, idx, 0));
        }
    }
}
