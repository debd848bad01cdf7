package ferry.zoo.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * Autograd without DJL's GradientCollector. That collector is a JVM-wide singleton (a second one open on another
 * thread throws) and its backward can only seed with ones, while split learning needs many halves recording at
 * once and a backward seeded by a gradient that came over the wire. PyTorch itself allows both: grad mode is per
 * thread and independent graphs may run backward concurrently. Gradients accumulate, so the optimizer zeroes them
 * after every step.
 */
public final class Autograd {
    private Autograd() {}

    /** Runs {@code body} with gradient recording on for this thread, restoring the previous mode afterwards. */
    public static <T> T recording(Supplier<T> body) {
        return withMode(true, body);
    }

    /** Runs {@code body} with recording off: inference and in-place updates of leaves that require gradients. */
    public static <T> T noGrad(Supplier<T> body) {
        return withMode(false, body);
    }

    public static void noGrad(Runnable body) {
        withMode(false, () -> {
            body.run();
            return null;
        });
    }

    private static <T> T withMode(boolean on, Supplier<T> body) {
        boolean prev = JniUtils.isGradMode();
        JniUtils.setGradMode(on);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(prev);
        }
    }

    /** Back-propagates from {@code target} seeded with {@code seed} (dL/dtarget), freeing the graph. */
    public static void backward(NDArray target, NDArray seed) {
        JniUtils.backward((PtNDArray) target, (PtNDArray) seed, false, false);
    }

    /** Back-propagates a scalar loss (seed 1). */
    public static void backward(NDArray scalarLoss) {
        try (NDArray one = scalarLoss.onesLike()) {
            backward(scalarLoss, one);
        }
    }

    public static void zeroGrad(NDArray array) {
        JniUtils.zeroGrad((PtNDArray) array);
    }
}
