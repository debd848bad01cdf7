package ferry.zoo.model;

import java.util.Arrays;

/**
 * One layer of a split-able model, as plain data: enough to compute its output shape, its cost per sample and its
 * parameter bytes without building anything. {@link BlockFactory} turns it into a DJL block.
 * Shapes here are per sample, (C, H, W) for images and (F) after flattening.
 */
public sealed interface LayerSpec {

    int[] outShape(int[] in);

    /** Forward FLOPs for one sample (a multiply-add counts two). */
    long forwardFlops(int[] in);

    /** Backward FLOPs for one sample: layers with weights compute both input and weight gradients. */
    default long backwardFlops(int[] in) {
        return paramCount(in) > 0 ? 2 * forwardFlops(in) : forwardFlops(in);
    }

    /** Floats this layer stores: trainable weights plus running statistics. */
    long paramCount(int[] in);

    record Conv(int filters, int kernel, int stride, int padding) implements LayerSpec {
        public int[] outShape(int[] in) {
            requireRank(in, 3, this);
            int h = (in[1] + 2 * padding - kernel) / stride + 1;
            int w = (in[2] + 2 * padding - kernel) / stride + 1;
            if (h < 1 || w < 1) {
                throw new IllegalArgumentException(this + " does not fit input " + Arrays.toString(in));
            }
            return new int[] {filters, h, w};
        }

        public long forwardFlops(int[] in) {
            int[] o = outShape(in);
            return 2L * o[0] * o[1] * o[2] * in[0] * kernel * kernel;
        }

        public long paramCount(int[] in) {
            return (long) in[0] * kernel * kernel * filters + filters;
        }
    }

    /** Batch normalisation over channels: gamma, beta and the running mean and variance. */
    record BatchNorm() implements LayerSpec {
        public int[] outShape(int[] in) {
            return in.clone();
        }

        public long forwardFlops(int[] in) {
            return 2 * elements(in);
        }

        public long paramCount(int[] in) {
            return 4L * in[0];
        }
    }

    record Relu() implements LayerSpec {
        public int[] outShape(int[] in) {
            return in.clone();
        }

        public long forwardFlops(int[] in) {
            return elements(in);
        }

        public long paramCount(int[] in) {
            return 0;
        }
    }

    record MaxPool(int size, int stride) implements LayerSpec {
        public int[] outShape(int[] in) {
            requireRank(in, 3, this);
            return new int[] {in[0], (in[1] - size) / stride + 1, (in[2] - size) / stride + 1};
        }

        public long forwardFlops(int[] in) {
            return elements(outShape(in)) * size * size;
        }

        public long paramCount(int[] in) {
            return 0;
        }
    }

    record GlobalAvgPool() implements LayerSpec {
        public int[] outShape(int[] in) {
            requireRank(in, 3, this);
            return new int[] {in[0]};
        }

        public long forwardFlops(int[] in) {
            return elements(in);
        }

        public long paramCount(int[] in) {
            return 0;
        }
    }

    record Flatten() implements LayerSpec {
        public int[] outShape(int[] in) {
            return new int[] {(int) elements(in)};
        }

        public long forwardFlops(int[] in) {
            return 0;
        }

        public long paramCount(int[] in) {
            return 0;
        }
    }

    record Dense(int units) implements LayerSpec {
        public int[] outShape(int[] in) {
            requireRank(in, 1, this);
            return new int[] {units};
        }

        public long forwardFlops(int[] in) {
            return 2L * in[0] * units;
        }

        public long paramCount(int[] in) {
            return (long) in[0] * units + units;
        }
    }

    /**
     * A ResNet basic block: conv3x3(stride)-BN-ReLU-conv3x3-BN plus a shortcut (identity, or conv1x1(stride)-BN when
     * the shape changes), then ReLU.
     */
    record Residual(int filters, int stride) implements LayerSpec {
        public int[] outShape(int[] in) {
            return conv1().outShape(in);
        }

        Conv conv1() {
            return new Conv(filters, 3, stride, 1);
        }

        Conv conv2() {
            return new Conv(filters, 3, 1, 1);
        }

        Conv projection() {
            return new Conv(filters, 1, stride, 0);
        }

        public boolean projects(int[] in) {
            return stride != 1 || in[0] != filters;
        }

        public long forwardFlops(int[] in) {
            int[] mid = outShape(in);
            long f = conv1().forwardFlops(in) + conv2().forwardFlops(mid) + 2 * new BatchNorm().forwardFlops(mid)
                    + 2 * elements(mid) /* two ReLUs */ + elements(mid) /* the add */;
            if (projects(in)) {
                f += projection().forwardFlops(in) + new BatchNorm().forwardFlops(mid);
            }
            return f;
        }

        public long backwardFlops(int[] in) {
            return 2 * forwardFlops(in);
        }

        public long paramCount(int[] in) {
            int[] mid = outShape(in);
            long p = conv1().paramCount(in) + conv2().paramCount(mid) + 2 * new BatchNorm().paramCount(mid);
            if (projects(in)) {
                p += projection().paramCount(in) + new BatchNorm().paramCount(mid);
            }
            return p;
        }
    }

    static long elements(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static void requireRank(int[] in, int rank, LayerSpec layer) {
        if (in.length != rank) {
            throw new IllegalArgumentException(layer + " needs a rank-" + rank + " input, got " + Arrays.toString(in));
        }
    }
}
