package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;

/**
 * Chooses which of one device's samples to train on this round: a fraction of them, the ones most worth the
 * device's compute and the link's bytes. A selector sees the device's own data (it runs on the device) and returns
 * only indices, sorted ascending: the raw data never leaves the device, and the indices themselves need not either.
 *
 * <p>Contract: for {@code n} candidates it returns {@link #subsetSize(int, double)} distinct candidates (except
 * {@code none}, which keeps them all), the same ones for the same inputs and seed. Fractions outside (0, 1], NaN,
 * empty or out-of-range candidates are refused with an {@link IllegalArgumentException} that says what is wrong.
 *
 * <p>Called once per round it picks that round's subset; {@link OnlineSelection} calls it once per batch on a small
 * random pool instead, which is how a selector that scores with the model should be used.
 */
public interface DataSelector {

    /** The name {@link DataSelectors#byName} knows it by. */
    String name();

    /** True when {@link #select} needs a {@link SampleScorer} (the current model); false when it ignores it. */
    default boolean needsScorer() {
        return false;
    }

    /**
     * The subset to train on: a sorted array of distinct members of {@code candidates}.
     *
     * @param scorer the current model's per-sample scores; may be null unless {@link #needsScorer()}
     */
    int[] select(ImageDataset data, int[] candidates, double fraction, long seed, SampleScorer scorer);

    default int[] select(ImageDataset data, int[] candidates, double fraction, long seed) {
        return select(data, candidates, fraction, seed, null);
    }

    /** How many of {@code n} samples a fraction keeps: round(fraction * n), at least one. */
    static int subsetSize(int n, double fraction) {
        Selection.checkFraction(fraction);
        if (n < 1) {
            throw new IllegalArgumentException("nothing to select from: " + n + " candidates");
        }
        return (int) Math.max(1, Math.min(n, Math.round(fraction * n)));
    }
}
