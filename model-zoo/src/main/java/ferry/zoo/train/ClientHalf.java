package ferry.zoo.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ferry.zoo.data.Batch;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import java.util.Arrays;

/**
 * The device's side of a split model, units [0, cut). A step is two calls: {@link #forward} returns the
 * activations ("smashed data") and keeps the autograd graph open; {@link #backward} takes the cut-layer gradient
 * that came back from the edge, back-propagates it and steps the optimizer.
 */
public final class ClientHalf extends Net {
    private NDManager pending;
    private NDArray pendingOut;

    public ClientHalf(ModelSpec spec, int cut, long seed, SgdConfig sgd) {
        super(spec, 0, checked(spec, cut), seed, sgd);
    }

    private static int checked(ModelSpec spec, int cut) {
        spec.checkCut(cut);
        return cut;
    }

    public int cut() {
        return to;
    }

    /** Forward pass in training mode; a forward still waiting for its gradient is dropped. */
    public Tensor forward(Batch batch) {
        checkOpen();
        checkInput(batch.inputs(), "input batch");
        discardPending();
        pending = manager.newSubManager();
        NDArray x = create(pending, batch.inputs());
        pendingOut = forwardTraining(x);
        return toTensor(pendingOut);
    }

    public boolean awaitingGradient() {
        return pendingOut != null;
    }

    /**
     * Back-propagates the cut-layer gradient of the last forward and steps. A gradient of the wrong shape or with
     * non-finite values is refused and the forward keeps waiting, so a good gradient can still complete the step.
     */
    public void backward(Tensor cutGradient) {
        checkOpen();
        if (pendingOut == null) {
            throw new IllegalStateException("no forward pass is waiting for a cut-layer gradient");
        }
        long[] want = pendingOut.getShape().getShape();
        if (!Arrays.equals(toLongs(cutGradient.shape()), want)) {
            throw new MalformedTensorException("cut-layer gradient has shape " + Arrays.toString(cutGradient.shape())
                    + ", expected " + Arrays.toString(want));
        }
        int bad = cutGradient.firstNonFinite();
        if (bad >= 0) {
            throw new MalformedTensorException("cut-layer gradient holds a non-finite value at index " + bad);
        }
        try {
            Autograd.backward(pendingOut, create(pending, cutGradient));
            optimizerStep();
            cursor++;
        } finally {
            discardPending();
        }
    }

    private void discardPending() {
        if (pending != null) {
            pending.close();
            pending = null;
            pendingOut = null;
        }
    }

    @Override
    public void close() {
        discardPending();
        super.close();
    }
}
