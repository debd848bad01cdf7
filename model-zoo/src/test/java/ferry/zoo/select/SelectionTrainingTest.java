package ferry.zoo.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.data.Partitioner;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.SampleLosses;
import ferry.zoo.train.SgdConfig;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * On real Fashion-MNIST, a short training on 30 % of a device's samples chosen per batch by loss against the same
 * training on a random 30 %: same initial weights, steps, batch sizes and pools; a small MLP keeps it to seconds.
 *
 * <p>What is asserted is what held on every seed tried: the loss-chosen batches leave a lower loss on the device's
 * own 4,000 samples, which is what choosing by loss is for (on six seeds the loss was 0.006 to 0.08 lower, 0.037 on
 * average; the assertion asks for 0.01 on average over four, and a win on three of them). Test accuracy is only
 * printed: on this model and budget its difference from random was within seed-to-seed noise (-1.6 to +1.6
 * points on the full test set), and a test that asserted it would be a coin toss. {@code ops/bench small-data} reports the accuracy
 * picture for VGG-5 split at the cut.
 */
class SelectionTrainingTest {
    static final int SEEDS = 4;
    static final ImageDataset TEST = TestData.test().head(2000);

    /** Mean loss on the candidates after training, and test accuracy. */
    static double[] train(DataSelector selector, long seed) {
        ImageDataset train = TestData.train();
        ModelSpec spec = ModelSpecs.mlp(train.sampleShape(), 10);
        int[] candidates = Arrays.copyOf(Partitioner.iid(train.size(), 1, 99 + seed).get(0), 4000);
        try (MonolithicModel m = new MonolithicModel(spec, seed, SgdConfig.DEFAULT)) {
            SampleScorer scorer = (d, idx) -> SampleLosses.of(List.of(m), d, idx, 100);
            for (int epoch = 0; epoch < 5; epoch++) {
                OnlineSelection os = new OnlineSelection(selector, train, candidates, 0.3, 32, 2, seed * 100 + epoch);
                assertEquals(1200, os.samples()); // the same for both selectors: 37 batches of 32, one of 16
                for (int s = 0; s < os.steps(); s++) {
                    m.step(train.batch(os.batch(s, scorer)));
                }
            }
            float[] losses = SampleLosses.of(List.of(m), train, candidates, 500);
            double mean = 0;
            for (float l : losses) {
                mean += l / losses.length;
            }
            // Test accuracy is only reported, so the first 2,000 test images are enough.
            return new double[] {mean, Evaluator.evaluate(List.of(m), TEST, 1000).accuracy()};
        }
    }

    @Test
    void lossChosenBatchesLearnTheDevicesDataFasterThanRandomOnes() {
        double gain = 0;
        int wins = 0;
        StringBuilder report = new StringBuilder();
        for (long seed = 1; seed <= SEEDS; seed++) {
            double[] random = train(new RandomSelector(), seed);
            double[] loss = train(new LossSelector(), seed);
            gain += (random[0] - loss[0]) / SEEDS;
            wins += loss[0] < random[0] ? 1 : 0;
            report.append(String.format("%n  seed %d: device-data loss %.4f (random %.4f), test accuracy %.4f "
                    + "(random %.4f)", seed, loss[0], random[0], loss[1], random[1]));
        }
        System.out.println("loss-chosen vs random batches:" + report);
        assertTrue(gain > 0.01, "mean loss reduction over random " + gain + ":" + report);
        assertTrue(wins >= SEEDS - 1, wins + " wins of " + SEEDS + ":" + report);
    }
}
