package ferry.zoo.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ferry.zoo.data.Batch;
import ferry.zoo.data.ImageDataset;
import java.util.Arrays;
import java.util.List;

/**
 * Each sample's own cross-entropy under a chain of nets (a whole model, or a client half then its server half):
 * inference only, no gradients, BatchNorm on its running statistics, so scoring changes nothing in the nets and
 * the same weights give the same losses. This is what a loss-based data selector ranks samples by.
 */
public final class SampleLosses {
    private SampleLosses() {}

    public static float[] of(List<? extends Net> chain, ImageDataset data, int[] indices, int batchSize) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no nets to score with");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        int classes = chain.get(chain.size() - 1).spec().numClasses();
        float[] out = new float[indices.length];
        for (int from = 0; from < indices.length; from += batchSize) {
            int to = Math.min(indices.length, from + batchSize);
            Batch b = data.batch(Arrays.copyOfRange(indices, from, to));
            try (NDManager sub = NDManager.newBaseManager(Device.cpu())) {
                NDArray x = Net.create(sub, b.inputs());
                NDArray y = Net.labels(sub, b.labels());
                NDArray logits = Net.infer(chain, x);
                float[] l = Autograd.noGrad(() -> logits.logSoftmax(1).mul(y.oneHot(classes, DataType.FLOAT32))
                        .sum(new int[] {1}).neg()).toFloatArray();
                System.arraycopy(l, 0, out, from, l.length);
            }
        }
        return out;
    }
}
