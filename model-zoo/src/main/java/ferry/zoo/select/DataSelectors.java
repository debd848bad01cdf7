package ferry.zoo.select;

import ferry.zoo.data.ImageDataset;
import java.util.List;

/** The selectors by name, for configuration and the command line. */
public final class DataSelectors {
    /** {@code none} keeps every sample (training as without selection); the others keep a fraction. */
    public static final List<String> NAMES = List.of("none", "random", "centroid", "loss");

    private DataSelectors() {}

    public static DataSelector byName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("no data selector named; known: " + NAMES);
        }
        return switch (name) {
            case "none" -> NONE;
            case "random" -> new RandomSelector();
            case "centroid" -> new CentroidSelector();
            case "loss" -> new LossSelector();
            default -> throw new IllegalArgumentException("unknown data selector '" + name + "'; known: " + NAMES);
        };
    }

    /** Refuses a fraction outside (0, 1] (NaN included) with a message that names it. */
    public static double checkFraction(double fraction) {
        Selection.checkFraction(fraction);
        return fraction;
    }

    /** No selection: every candidate, sorted; the fraction is still checked so a bad configuration is caught. */
    public static final DataSelector NONE = new DataSelector() {
        @Override
        public String name() {
            return "none";
        }

        @Override
        public int[] select(ImageDataset data, int[] candidates, double fraction, long seed, SampleScorer scorer) {
            Selection.size(data, candidates, fraction);
            return Selection.sorted(candidates);
        }
    };
}
