package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;
import java.util.Arrays;
import java.util.SplittableRandom;

/** The baseline: a uniform seeded draw of the subset size, without looking at labels, pixels or the model. */
public final class RandomSelector implements DataSelector {

    @Override
    public String name() {
        return "random";
    }

    @Override
    public int[] select(ImageDataset data, int[] candidates, double fraction, long seed, SampleScorer scorer) {
        int k = Selection.size(data, candidates, fraction);
        int[] a = Selection.sorted(candidates); // a function of the set, not of the order it came in
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < k; i++) { // partial Fisher-Yates: the first k are a uniform k-subset
            int j = i + rnd.nextInt(a.length - i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        int[] out = Arrays.copyOf(a, k);
        Arrays.sort(out);
        return out;
    }
}
