package ferry.zoo.tensor;

import java.util.Arrays;

/**
 * A dense float tensor held in plain Java: what crosses every boundary between the zoo and the rest of Ferry
 * (activations, cut-layer gradients, weights). It never touches native memory, so it can be kept, copied and
 * encoded freely; DJL arrays are made from it inside a step and closed with the step.
 */
public record Tensor(int[] shape, float[] data) {

    public Tensor {
        shape = shape.clone();
        long n = elementCount(shape);
        if (n != data.length) {
            throw new MalformedTensorException(
                    "shape " + Arrays.toString(shape) + " holds " + n + " floats but " + data.length + " were given");
        }
    }

    /** The number of elements a shape holds; rejects negative dimensions and sizes past int range. */
    public static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new MalformedTensorException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new MalformedTensorException("shape " + Arrays.toString(shape) + " is too large");
            }
        }
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** The first index of a NaN or infinite element, or -1 when all are finite. */
    public int firstNonFinite() {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                return i;
            }
        }
        return -1;
    }

    /** Bitwise equality of shape and data (NaN payloads included), which is what "bit-exact" means here. */
    public boolean bitEquals(Tensor other) {
        if (!Arrays.equals(shape, other.shape) || data.length != other.data.length) {
            return false;
        }
        for (int i = 0; i < data.length; i++) {
            if (Float.floatToRawIntBits(data[i]) != Float.floatToRawIntBits(other.data[i])) {
                return false;
            }
        }
        return true;
    }

    /** Largest absolute element-wise difference; infinite when the shapes differ. */
    public double maxAbsDiff(Tensor other) {
        if (!Arrays.equals(shape, other.shape)) {
            return Double.POSITIVE_INFINITY;
        }
        double max = 0;
        for (int i = 0; i < data.length; i++) {
            max = Math.max(max, Math.abs((double) data[i] - other.data[i]));
        }
        return max;
    }

    public long byteSize() {
        return 4L * data.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && bitEquals(t);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
