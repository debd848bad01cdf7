package ferry.zoo.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ferry.zoo.model.BlockFactory;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Units [from, to) of a model: a DJL block, its parameters under canonical names, the optimizer that owns their
 * momentum, and a batch cursor. DJL's Trainer keeps optimizer state private and replaces arrays on load, so Ferry
 * owns both: state can then be saved, moved to another edge and resumed bit-exactly.
 *
 * <p>Native memory: parameters and momentum live in this net's manager; each step runs in a sub-manager closed at
 * its end, so memory stays flat however many steps run. Not thread-safe: one caller at a time (an actor).
 */
public class Net implements AutoCloseable {
    protected final ModelSpec spec;
    protected final int from;
    protected final int to;
    protected final NDManager manager;
    protected final SequentialBlock block;
    protected final ParameterStore store;
    protected final SgdConfig sgd;
    private final int[] inShape;
    private final List<String> names = new ArrayList<>();
    private final List<Parameter> params = new ArrayList<>();
    private final List<Integer> trainable = new ArrayList<>();
    private final List<NDArray> momentum = new ArrayList<>();
    protected long cursor;
    private boolean closed;

    protected Net(ModelSpec spec, int from, int to, long seed, SgdConfig sgd) {
        if (from < 0 || to > spec.units().size() || from >= to) {
            throw new IllegalArgumentException(spec.name() + ": no units in [" + from + ", " + to + ")");
        }
        this.spec = spec;
        this.from = from;
        this.to = to;
        this.sgd = sgd;
        this.inShape = spec.shapeAt(from);
        this.manager = NDManager.newBaseManager(Device.cpu());
        this.block = new SequentialBlock();
        for (int u = from; u < to; u++) {
            block.add(BlockFactory.unit(spec.units().get(u), spec.shapeAt(u)));
        }
        this.store = new ParameterStore(manager, false);
        Autograd.noGrad(() -> {
            block.initialize(manager, DataType.FLOAT32, new Shape(toLongs(withBatch(1, inShape))));
            List<Block> children = block.getChildren().values();
            for (int u = from; u < to; u++) {
                int j = 0;
                for (Pair<String, Parameter> p : children.get(u - from).getParameters()) {
                    Parameter param = p.getValue();
                    NDArray array = param.getArray();
                    names.add(u + "." + spec.units().get(u).name() + "." + j + "." + param.getName());
                    assign(array, Init.values(param.getType(), array.getShape().getShape(), seed, u, j));
                    if (param.requiresGradient()) {
                        array.setRequiresGradient(true);
                        trainable.add(params.size());
                        momentum.add(manager.zeros(array.getShape()));
                    }
                    params.add(param);
                    j++;
                }
            }
        });
    }

    public ModelSpec spec() {
        return spec;
    }

    /** Per-sample shape this net takes as input. */
    public int[] inputShape() {
        return inShape.clone();
    }

    public long cursor() {
        return cursor;
    }

    /** The canonical parameter names, in order. */
    public List<String> parameterNames() {
        return List.copyOf(names);
    }

    /** Weights (running statistics included) as plain tensors. */
    public List<NamedTensor> weights() {
        checkOpen();
        List<NamedTensor> out = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) {
            out.add(new NamedTensor(names.get(i), toTensor(params.get(i).getArray())));
        }
        return out;
    }

    public ModelState state() {
        List<NamedTensor> m = new ArrayList<>(momentum.size());
        for (int k = 0; k < trainable.size(); k++) {
            m.add(new NamedTensor(names.get(trainable.get(k)), toTensor(momentum.get(k))));
        }
        return new ModelState(weights(), m, cursor);
    }

    /** Replaces weights, momentum and cursor; everything is checked before anything is changed. */
    public void load(ModelState s) {
        checkOpen();
        checkNames("weights", s.weights(), names, params.size(), i -> params.get(i).getArray());
        List<String> trainableNames = new ArrayList<>();
        for (int i : trainable) {
            trainableNames.add(names.get(i));
        }
        checkNames("momentum", s.momentum(), trainableNames, momentum.size(), momentum::get);
        Autograd.noGrad(() -> {
            for (int i = 0; i < params.size(); i++) {
                assign(params.get(i).getArray(), s.weights().get(i).tensor().data());
            }
            for (int k = 0; k < momentum.size(); k++) {
                assign(momentum.get(k), s.momentum().get(k).tensor().data());
            }
        });
        cursor = s.cursor();
    }

    /** Replaces the weights only (e.g. with a FedAvg result); momentum is kept or zeroed. */
    public void loadWeights(List<NamedTensor> weights, boolean resetMomentum) {
        checkOpen();
        checkNames("weights", weights, names, params.size(), i -> params.get(i).getArray());
        Autograd.noGrad(() -> {
            for (int i = 0; i < params.size(); i++) {
                assign(params.get(i).getArray(), weights.get(i).tensor().data());
            }
            if (resetMomentum) {
                for (NDArray m : momentum) {
                    assign(m, new float[Math.toIntExact(m.size())]);
                }
            }
        });
    }

    /** Inference through this net (BatchNorm uses running statistics); the result lives in {@code sub}. */
    /** Inference through a chain of halves (client then server, or one whole model), no gradients kept. */
    public static NDArray infer(List<? extends Net> chain, NDArray x) {
        for (Net n : chain) {
            x = n.infer(x);
        }
        return x;
    }

    public NDArray infer(NDArray x) {
        return Autograd.noGrad(() -> block.forward(store, new NDList(x), false).singletonOrThrow());
    }

    protected NDArray forwardTraining(NDArray x) {
        return Autograd.recording(() -> block.forward(store, new NDList(x), true).singletonOrThrow());
    }

    /** SGD with momentum on every trainable parameter, then zeroes the gradients (PyTorch accumulates them). */
    protected void optimizerStep() {
        float lr = sgd.learningRate();
        float mu = sgd.momentum();
        float wd = sgd.weightDecay();
        Autograd.noGrad(() -> {
            for (int k = 0; k < trainable.size(); k++) {
                NDArray w = params.get(trainable.get(k)).getArray();
                NDArray v = momentum.get(k);
                try (NDArray g = w.getGradient()) {
                    if (wd > 0) {
                        try (NDArray decay = w.mul(wd)) {
                            g.addi(decay);
                        }
                    }
                    v.muli(mu).addi(g);
                    try (NDArray delta = v.mul(lr)) {
                        w.subi(delta);
                    }
                }
                Autograd.zeroGrad(w);
            }
        });
    }

    /** Checks a batch of per-sample shape {@link #inputShape()} and finite values; the message says what is wrong. */
    protected void checkInput(Tensor t, String what) {
        int[] s = t.shape();
        if (s.length != inShape.length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), inShape)) {
            throw new MalformedTensorException(what + " has shape " + Arrays.toString(s) + ", expected [batch, "
                    + Arrays.toString(inShape).replace("[", "").replace("]", "") + "]");
        }
        if (s[0] < 1) {
            throw new MalformedTensorException(what + " is an empty batch");
        }
        int bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new MalformedTensorException(what + " holds a non-finite value (" + t.data()[bad] + ") at index "
                    + bad);
        }
    }

    protected void checkLabels(int[] labels, int batch) {
        if (labels.length != batch) {
            throw new IllegalArgumentException(labels.length + " labels for a batch of " + batch);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= spec.numClasses()) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is outside 0.."
                        + (spec.numClasses() - 1));
            }
        }
    }

    /** Mean softmax cross-entropy of logits against integer labels. */
    protected NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray oneHot = labels.oneHot(spec.numClasses(), DataType.FLOAT32);
        return logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mean();
    }

    protected static int correct(NDArray logits, NDArray labels) {
        return (int) logits.argMax(1).eq(labels).sum().toType(DataType.INT64, false).getLong();
    }

    protected static NDArray create(NDManager m, Tensor t) {
        return m.create(t.data(), new Shape(toLongs(t.shape())));
    }

    protected static NDArray labels(NDManager m, int[] labels) {
        long[] l = new long[labels.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = labels[i];
        }
        return m.create(l);
    }

    protected static Tensor toTensor(NDArray a) {
        long[] s = a.getShape().getShape();
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            shape[i] = Math.toIntExact(s[i]);
        }
        return new Tensor(shape, a.toFloatArray());
    }

    /** In-place copy, so arrays keep their identity and their requires-grad flag (DJL's load replaces them). */
    private void assign(NDArray dst, float[] values) {
        try (NDArray src = manager.create(values, dst.getShape())) {
            dst.set(new NDIndex("..."), src);
        }
    }

    private interface ArrayAt {
        NDArray get(int i);
    }

    private static void checkNames(String what, List<NamedTensor> given, List<String> expected, int count,
                                   ArrayAt arrays) {
        if (given.size() != count) {
            throw new IllegalArgumentException(what + ": " + given.size() + " tensors given, this half has " + count);
        }
        for (int i = 0; i < count; i++) {
            NamedTensor t = given.get(i);
            if (!t.name().equals(expected.get(i))) {
                throw new IllegalArgumentException(what + " " + i + " is '" + t.name() + "', expected '"
                        + expected.get(i) + "'");
            }
            long[] want = arrays.get(i).getShape().getShape();
            if (!Arrays.equals(toLongs(t.tensor().shape()), want)) {
                throw new MalformedTensorException(what + " '" + t.name() + "' has shape "
                        + Arrays.toString(t.tensor().shape()) + ", expected " + Arrays.toString(want));
            }
            int bad = t.tensor().firstNonFinite();
            if (bad >= 0) {
                throw new MalformedTensorException(what + " '" + t.name() + "' holds a non-finite value at " + bad);
            }
        }
    }

    static long[] toLongs(int[] s) {
        long[] l = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            l[i] = s[i];
        }
        return l;
    }

    static int[] withBatch(int batch, int[] sample) {
        int[] s = new int[sample.length + 1];
        s[0] = batch;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    protected void checkOpen() {
        if (closed) {
            throw new IllegalStateException(spec.name() + " units [" + from + ", " + to + ") are closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
