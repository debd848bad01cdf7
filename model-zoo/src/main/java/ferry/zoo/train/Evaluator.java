package ferry.zoo.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.Device;
import ferry.zoo.data.Batch;
import ferry.zoo.data.ImageDataset;
import java.util.List;

/** Test accuracy and loss of a chain of nets (a whole model, or a client half followed by its server half). */
public final class Evaluator {
    private Evaluator() {}

    public record Score(double accuracy, double loss, int samples) {}

    public static Score evaluate(List<? extends Net> chain, ImageDataset test, int batchSize) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("nothing to evaluate");
        }
        Net last = chain.get(chain.size() - 1);
        long correct = 0;
        double lossSum = 0;
        for (int from = 0; from < test.size(); from += batchSize) {
            int to = Math.min(test.size(), from + batchSize);
            Batch b = test.range(from, to);
            try (NDManager sub = NDManager.newBaseManager(Device.cpu())) {
                NDArray x = Net.create(sub, b.inputs());
                NDArray y = Net.labels(sub, b.labels());
                NDArray logits = Net.infer(chain, x);
                correct += Net.correct(logits, y);
                lossSum += Autograd.noGrad(() -> last.crossEntropy(logits, y)).getFloat() * (to - from);
            }
        }
        return new Score((double) correct / test.size(), lossSum / test.size(), test.size());
    }
}
