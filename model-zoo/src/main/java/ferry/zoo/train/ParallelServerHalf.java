package ferry.zoo.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One server half shared by N devices that train in parallel, with EPSL's last-layer gradient aggregation (Lin et
 * al., "Efficient Parallel Split Learning over Resource-constrained Wireless Edge Networks"). Every device sends a
 * batch of the same size b; positions 0..k-1 of every batch (k = floor(φ·b)) are "aggregated": their last-layer
 * gradients are summed across devices and back-propagated once, through the devices' averaged cut-layer input,
 * so the server back-propagates k + N(b−k) vectors instead of N·b, and sends k gradient vectors once to all
 * devices (broadcast) plus b−k to each (unicast).
 *
 * <p>A step, in order:
 * <ol>
 * <li>The forward of all N·b samples, concatenated in device order, exactly as {@link ServerHalf#step} on that
 * concatenation would run it: the loss (mean cross-entropy over N·b), the accuracy, every sample's last-layer
 * gradient (softmax(z) − onehot(y)) / (N·b) and the BatchNorm running statistics are those of parallel split
 * learning (PSL), for every φ. Only the backward differs.
 * <li>One forward with autograd of the rows that are back-propagated: the k averaged inputs x̄_j = (1/N) Σ_i
 * x_ij, then the N(b−k) non-aggregated samples in device order. Its backward is seeded with G_j = Σ_i g_ij for
 * the x̄ rows and with each sample's own g_ij for the others, in one call.
 * <li>One optimizer step.
 * </ol>
 * When k = 0 the two forwards are the same batch, so one forward serves both and the step is PSL's, op for op
 * (bit-identical to {@link ServerHalf#step} on the concatenation). For 0 &lt; k
 * the second forward is extra work (N(b−k) + k rows); it is what keeps the loss and the BatchNorm statistics
 * independent of φ. BatchNorm normalises that second forward with its own batch statistics, and its update of
 * the running statistics is undone: the averaged inputs have about 1/N of the variance of real samples and would
 * drag the running variance, used at inference, down.
 *
 * <p>The gradient with respect to x̄_j is the same for every device (the broadcast); by the chain rule device
 * i's gradient for x_ij is (1/N) of it. {@link ParallelStepResult#clientGradients()} has that scaling applied;
 * {@link ParallelStepResult#broadcastGradient()} is the unscaled d/dx̄, what goes on the air once.
 */
public final class ParallelServerHalf extends ServerSide {

    /** What one parallel step reports. Gradients are per device, in the order the activations were given. */
    public record ParallelStepResult(
            /* mean cross-entropy over all N·b samples */
            float loss,
            int correct,
            int samples,
            /* full [b, ...] per device, ready for ClientHalf.backward */
            List<Tensor> clientGradients,
            /* d/dx̄ for the aggregated positions, [k, ...], unscaled; null when k = 0 */
            Tensor broadcastGradient,
            /* [b−k, ...] per device: the non-aggregated positions k..b-1 */
            List<Tensor> unicastGradients,
            /* k + N(b−k): vectors back-propagated through the server half */
            long backpropVectors,
            /* floats the edge sends: the broadcast once plus every unicast */
            long downlinkFloats) {

        public ParallelStepResult {
            clientGradients = List.copyOf(clientGradients);
            unicastGradients = List.copyOf(unicastGradients);
        }

        /** k, the aggregated positions per device. */
        public int aggregatedPositions() {
            return broadcastGradient == null ? 0 : broadcastGradient.dim(0);
        }
    }

    /** Sees what a step computed at the last layer; for tests, which check it against a plain-Java computation. */
    interface LastLayerProbe {
        /**
         * @param logits     the step's forward, [N·b, classes], devices concatenated in order
         * @param aggregated G, [k, classes]: Σ over devices of the per-sample last-layer gradients; null if k = 0
         */
        void seen(Tensor logits, Tensor aggregated);
    }

    public ParallelServerHalf(ModelSpec spec, int cut, long seed, SgdConfig sgd) {
        super(spec, cut, seed, sgd);
    }

    /**
     * k = floor(φ·b): how many positions of each batch are aggregated. The 1e-9 keeps a φ written as a decimal
     * (0.29 for 29 of 100) from losing a position to rounding (0.29 * 100 = 28.999999999999996).
     */
    public static int aggregatedPositions(int batch, double phi) {
        return Math.min(batch, (int) Math.floor(phi * batch + 1e-9));
    }

    /**
     * One parallel step for N devices. Everything is checked before anything is computed or changed: at least
     * one device, one label array per device, equal batch sizes, per-sample shape {@code spec.shapeAt(cut)},
     * finite values, labels in range and 0 ≤ φ ≤ 1.
     */
    public ParallelStepResult step(List<Tensor> activations, List<int[]> labels, double phi) {
        return step(activations, labels, phi, null);
    }

    ParallelStepResult step(List<Tensor> activations, List<int[]> labels, double phi, LastLayerProbe probe) {
        checkOpen();
        int batch = checkStep(activations, labels, phi);
        int n = activations.size();
        int k = aggregatedPositions(batch, phi);
        int sample = Math.toIntExact(Tensor.elementCount(inputShape()));
        try (NDManager sub = manager.newSubManager()) {
            NDArray y = labels(sub, concatLabels(labels));
            // The rows that are back-propagated: x̄ for the aggregated positions, then the rest, device by device.
            NDArray xBack = create(sub, backpropRows(activations, batch, k, sample));
            xBack.setRequiresGradient(true);
            NDArray logits;
            NDArray seed = null;
            float loss;
            if (k == 0) {
                // Nothing is aggregated: PSL's step on the concatenation, op for op, so the result is bit-identical.
                logits = forwardTraining(xBack);
                NDArray mean = Autograd.recording(() -> crossEntropy(logits, y));
                Autograd.backward(mean);
                loss = mean.getFloat();
            } else {
                NDArray xAll = create(sub, concat(activations, batch, sample));
                logits = Autograd.noGrad(() -> block.forward(store, new NDList(xAll), true).singletonOrThrow());
                loss = Autograd.noGrad(() -> crossEntropy(logits, y).getFloat());
                float[] runningStats = runningStatistics();
                NDArray backLogits = forwardTraining(xBack);
                NDArray g = Autograd.noGrad(() -> backwardSeed(logits, y, n, batch, k));
                Autograd.backward(backLogits, g);
                restoreRunningStatistics(runningStats, sub);
                seed = g;
            }
            int right = correct(logits, y);
            if (probe != null) {
                Tensor aggregated = seed == null ? null : toTensor(seed.get(new NDIndex("0:" + k)));
                probe.seen(toTensor(logits), aggregated);
            }
            float[] grad = xBack.getGradient().toFloatArray();
            optimizerStep();
            cursor++;
            return result(grad, n, batch, k, sample, loss, right);
        }
    }

    /**
     * The seed for the rows of {@link #backpropRows}: per-sample last-layer gradients g = (softmax(z) − onehot(y))
     * / (N·b), what the mean cross-entropy's backward gives; for the k aggregated positions summed over devices.
     */
    private NDArray backwardSeed(NDArray logits, NDArray y, int n, int batch, int k) {
        int classes = spec.numClasses();
        NDArray g = logits.softmax(1).sub(y.oneHot(classes, DataType.FLOAT32)).div((float) n * batch)
                .reshape(n, batch, classes);
        NDArray aggregated = g.get(new NDIndex(":, 0:" + k + ", :")).sum(new int[] {0});
        if (k == batch) {
            return aggregated;
        }
        NDArray own = g.get(new NDIndex(":, " + k + ":, :")).reshape((long) n * (batch - k), classes);
        return aggregated.concat(own, 0);
    }

    private ParallelStepResult result(float[] grad, int n, int batch, int k, int sample, float loss, int right) {
        int[] perSample = inputShape();
        Tensor broadcast = k == 0 ? null
                : new Tensor(withBatch(k, perSample), Arrays.copyOfRange(grad, 0, k * sample));
        int rest = batch - k;
        List<Tensor> unicast = new ArrayList<>(n);
        List<Tensor> full = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int start = (k + i * rest) * sample;
            float[] own = Arrays.copyOfRange(grad, start, start + rest * sample);
            unicast.add(new Tensor(withBatch(rest, perSample), own));
            float[] all = new float[batch * sample];
            for (int e = 0; e < k * sample; e++) {
                all[e] = grad[e] / n;
            }
            System.arraycopy(own, 0, all, k * sample, own.length);
            full.add(new Tensor(withBatch(batch, perSample), all));
        }
        long vectors = k + (long) n * rest;
        return new ParallelStepResult(loss, right, n * batch, full, broadcast, unicast, vectors, vectors * sample);
    }

    /** [x̄_0 .. x̄_{k-1}, x_0[k..b), x_1[k..b), ...]: the rows whose gradients the server back-propagates. */
    private Tensor backpropRows(List<Tensor> activations, int batch, int k, int sample) {
        int n = activations.size();
        int rows = k + n * (batch - k);
        float[] out = new float[rows * sample];
        for (int i = 0; i < n; i++) {
            float[] x = activations.get(i).data();
            for (int e = 0; e < k * sample; e++) {
                out[e] += x[e];
            }
            System.arraycopy(x, k * sample, out, (k + i * (batch - k)) * sample, (batch - k) * sample);
        }
        for (int e = 0; e < k * sample; e++) {
            out[e] /= n;
        }
        return new Tensor(withBatch(rows, inputShape()), out);
    }

    private Tensor concat(List<Tensor> activations, int batch, int sample) {
        float[] out = new float[activations.size() * batch * sample];
        for (int i = 0; i < activations.size(); i++) {
            System.arraycopy(activations.get(i).data(), 0, out, i * batch * sample, batch * sample);
        }
        return new Tensor(withBatch(activations.size() * batch, inputShape()), out);
    }

    private static int[] concatLabels(List<int[]> labels) {
        int[] out = new int[labels.stream().mapToInt(l -> l.length).sum()];
        int at = 0;
        for (int[] l : labels) {
            System.arraycopy(l, 0, out, at, l.length);
            at += l.length;
        }
        return out;
    }

    /** The BatchNorm running means and variances (every parameter that takes no gradient), in a fixed order. */
    private float[] runningStatistics() {
        List<float[]> parts = new ArrayList<>();
        int total = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().requiresGradient()) {
                float[] v = p.getValue().getArray().toFloatArray();
                parts.add(v);
                total += v.length;
            }
        }
        float[] out = new float[total];
        int at = 0;
        for (float[] v : parts) {
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    /** Writes back what {@link #runningStatistics()} saved, in place (arrays keep their identity). */
    private void restoreRunningStatistics(float[] saved, NDManager sub) {
        Autograd.noGrad(() -> {
            int at = 0;
            for (Pair<String, Parameter> p : block.getParameters()) {
                if (!p.getValue().requiresGradient()) {
                    NDArray dst = p.getValue().getArray();
                    int len = Math.toIntExact(dst.size());
                    NDArray src = sub.create(Arrays.copyOfRange(saved, at, at + len), dst.getShape());
                    dst.set(new NDIndex("..."), src);
                    at += len;
                }
            }
        });
    }

    /** Checks a whole step's input and returns the common batch size; the message names device and problem. */
    private int checkStep(List<Tensor> activations, List<int[]> labels, double phi) {
        if (!(phi >= 0 && phi <= 1)) {
            throw new IllegalArgumentException("phi (the aggregated share of each batch) must be in [0, 1], got "
                    + phi);
        }
        if (activations == null || activations.isEmpty()) {
            throw new IllegalArgumentException("a parallel step needs the activations of at least one device");
        }
        if (labels == null || labels.size() != activations.size()) {
            throw new IllegalArgumentException((labels == null ? "no" : String.valueOf(labels.size()))
                    + " label arrays for " + activations.size() + " devices' activations; expected one per device");
        }
        int batch = -1;
        for (int i = 0; i < activations.size(); i++) {
            Tensor a = activations.get(i);
            if (a == null) {
                throw new IllegalArgumentException("device " + i + " sent no activations");
            }
            checkInput(a, "activations of device " + i);
            if (batch < 0) {
                batch = a.dim(0);
            } else if (a.dim(0) != batch) {
                throw new MalformedTensorException("device " + i + " sent a batch of " + a.dim(0)
                        + " but device 0 a batch of " + batch + "; EPSL aggregates position by position, so every"
                        + " device needs the same batch size");
            }
        }
        for (int i = 0; i < labels.size(); i++) {
            int[] l = labels.get(i);
            if (l == null || l.length != batch) {
                throw new IllegalArgumentException("device " + i + ": " + (l == null ? "no" : l.length)
                        + " labels for a batch of " + batch);
            }
            for (int j = 0; j < l.length; j++) {
                if (l[j] < 0 || l[j] >= spec.numClasses()) {
                    throw new IllegalArgumentException("device " + i + ": label " + l[j] + " at " + j
                            + " is outside 0.." + (spec.numClasses() - 1));
                }
            }
        }
        return batch;
    }
}
