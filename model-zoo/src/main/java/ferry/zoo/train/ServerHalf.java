package ferry.zoo.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.tensor.Tensor;

/**
 * The edge's side of a split model, units [cut, end): from activations and labels it runs forward, loss, backward
 * and an optimizer step, and returns the cut-layer gradient for the device.
 */
public final class ServerHalf extends ServerSide {

    public ServerHalf(ModelSpec spec, int cut, long seed, SgdConfig sgd) {
        super(spec, cut, seed, sgd);
    }

    /** One training step; bad activations or labels are refused before anything is computed or changed. */
    public StepResult step(Tensor activations, int[] labels) {
        checkOpen();
        checkInput(activations, "activations");
        checkLabels(labels, activations.dim(0));
        try (NDManager sub = manager.newSubManager()) {
            NDArray x = create(sub, activations);
            x.setRequiresGradient(true);
            NDArray y = labels(sub, labels);
            NDArray logits = forwardTraining(x);
            NDArray loss = Autograd.recording(() -> crossEntropy(logits, y));
            Autograd.backward(loss);
            Tensor grad = toTensor(x.getGradient());
            StepResult r = new StepResult(loss.getFloat(), correct(logits, y), labels.length, grad);
            optimizerStep();
            cursor++;
            return r;
        }
    }
}
