package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;

/**
 * How useful the current model finds each sample: one score per index, higher = more to learn from (typically the
 * sample's loss under the model, forward only). It runs where the data is, on the device, so a selector that uses
 * it still returns only indices and never ships samples anywhere.
 */
@FunctionalInterface
public interface SampleScorer {
    float[] scores(ImageDataset data, int[] indices);
}
