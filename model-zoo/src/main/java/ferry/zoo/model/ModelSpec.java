package ferry.zoo.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A split-able model: an input shape, a class count and a sequence of units; any unit boundary may be the cut. */
public record ModelSpec(String name, int[] inputShape, int numClasses, List<Unit> units, int defaultCut) {

    public ModelSpec {
        inputShape = inputShape.clone();
        units = List.copyOf(units);
        if (units.size() < 2) {
            throw new IllegalArgumentException(name + ": a split-able model needs at least two units");
        }
        int[] out = shapeAfter(inputShape, units, units.size());
        if (out.length != 1 || out[0] != numClasses) {
            throw new IllegalArgumentException(name + ": last unit gives " + Arrays.toString(out) + ", expected ["
                    + numClasses + "]");
        }
        if (defaultCut < 1 || defaultCut >= units.size()) {
            throw new IllegalArgumentException(name + ": default cut " + defaultCut + " is not in 1.."
                    + (units.size() - 1));
        }
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    /** Valid cuts are 1..units-1: each side keeps at least one unit. */
    public void checkCut(int cut) {
        if (cut < 1 || cut >= units.size()) {
            throw new IllegalArgumentException(name + ": cut " + cut + " is not a valid cut point; valid are 1.."
                    + (units.size() - 1) + " (" + cutNames() + ")");
        }
    }

    private String cutNames() {
        List<String> n = new ArrayList<>();
        for (int c = 1; c < units.size(); c++) {
            n.add(c + "=after " + units.get(c - 1).name());
        }
        return String.join(", ", n);
    }

    /** The per-sample shape entering unit {@code index} (the cut-layer activation shape when index is the cut). */
    public int[] shapeAt(int index) {
        return shapeAfter(inputShape, units, index);
    }

    public CutProfile profile(int cut) {
        checkCut(cut);
        long[] c = cost(0, cut);
        long[] s = cost(cut, units.size());
        long act = 4 * LayerSpec.elements(shapeAt(cut));
        return new CutProfile(cut, units.get(cut - 1).name(), c[0], c[1], s[0], s[1], act, 4 * c[2], 4 * s[2]);
    }

    public List<CutProfile> profiles() {
        List<CutProfile> out = new ArrayList<>();
        for (int c = 1; c < units.size(); c++) {
            out.add(profile(c));
        }
        return out;
    }

    /** Floats stored by units [from, to): the size of that half's weights. */
    public long paramCount(int from, int to) {
        return cost(from, to)[2];
    }

    private long[] cost(int from, int to) {
        long fwd = 0;
        long bwd = 0;
        long params = 0;
        int[] s = shapeAt(from);
        for (int u = from; u < to; u++) {
            for (LayerSpec l : units.get(u).layers()) {
                fwd += l.forwardFlops(s);
                bwd += l.backwardFlops(s);
                params += l.paramCount(s);
                s = l.outShape(s);
            }
        }
        return new long[] {fwd, bwd, params};
    }

    private static int[] shapeAfter(int[] in, List<Unit> units, int count) {
        int[] s = in;
        for (int u = 0; u < count; u++) {
            s = units.get(u).outShape(s);
        }
        return s;
    }
}
