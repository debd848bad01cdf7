package ferry.zoo.train;

import ferry.zoo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Federated averaging of parameter sets weighted by sample counts. Sums are taken in double: n*x is exact there
 * for float x and any realistic n, so averaging identical models gives them back bit for bit.
 */
public final class FedAvg {
    private FedAvg() {}

    /** One participant's parameters and how many samples produced them. */
    public record Contribution(List<NamedTensor> params, long samples) {}

    public static List<NamedTensor> average(List<Contribution> contributions) {
        if (contributions.isEmpty()) {
            throw new IllegalArgumentException("FedAvg needs at least one contribution");
        }
        List<NamedTensor> first = contributions.get(0).params();
        long total = 0;
        for (Contribution c : contributions) {
            if (c.samples() <= 0) {
                throw new IllegalArgumentException("a contribution must have a positive sample count, got "
                        + c.samples());
            }
            total += c.samples();
            checkCompatible(first, c.params());
        }
        List<NamedTensor> out = new ArrayList<>(first.size());
        for (int p = 0; p < first.size(); p++) {
            Tensor t0 = first.get(p).tensor();
            double[] acc = new double[t0.data().length];
            for (Contribution c : contributions) {
                float[] x = c.params().get(p).tensor().data();
                double n = c.samples();
                for (int i = 0; i < acc.length; i++) {
                    acc[i] += n * x[i];
                }
            }
            float[] avg = new float[acc.length];
            for (int i = 0; i < acc.length; i++) {
                avg[i] = (float) (acc[i] / total);
            }
            out.add(new NamedTensor(first.get(p).name(), new Tensor(t0.shape(), avg)));
        }
        return out;
    }

    private static void checkCompatible(List<NamedTensor> a, List<NamedTensor> b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("cannot average parameter sets of " + a.size() + " and " + b.size()
                    + " tensors");
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).name().equals(b.get(i).name())
                    || !Arrays.equals(a.get(i).tensor().shape(), b.get(i).tensor().shape())) {
                throw new IllegalArgumentException("parameter " + i + " differs: " + a.get(i).name()
                        + Arrays.toString(a.get(i).tensor().shape()) + " vs " + b.get(i).name()
                        + Arrays.toString(b.get(i).tensor().shape()));
            }
        }
    }
}
