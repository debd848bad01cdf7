package ferry.zoo.data;

import ferry.zoo.tensor.Tensor;

/**
 * Images kept as the unsigned bytes they were read as (Fashion-MNIST's 60,000 training images take 47 MB this way,
 * four times less than as floats); a batch is normalised to floats only when it is made.
 */
public final class ImageDataset {
    private final String name;
    private final byte[] pixels;
    private final byte[] labels;
    private final int channels;
    private final int height;
    private final int width;
    private final int numClasses;
    private final float[] mean;
    private final float[] std;

    public ImageDataset(String name, byte[] pixels, byte[] labels, int channels, int height, int width,
                        int numClasses, float[] mean, float[] std) {
        long per = (long) channels * height * width;
        if (per * labels.length != pixels.length) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes do not make "
                    + labels.length + " images of " + channels + "x" + height + "x" + width);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException(name + ": normalisation needs one mean and std per channel");
        }
        for (byte l : labels) {
            if (Byte.toUnsignedInt(l) >= numClasses) {
                throw new IllegalArgumentException(name + ": label " + Byte.toUnsignedInt(l)
                        + " outside 0.." + (numClasses - 1));
            }
        }
        this.name = name;
        this.pixels = pixels;
        this.labels = labels;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.numClasses = numClasses;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    public String name() {
        return name;
    }

    public int size() {
        return labels.length;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public int numClasses() {
        return numClasses;
    }

    /** The input shape of one sample, (C, H, W). */
    public int[] sampleShape() {
        return new int[] {channels, height, width};
    }

    public int label(int index) {
        return Byte.toUnsignedInt(labels[index]);
    }

    /** The first {@code n} samples as a dataset of its own (shares nothing mutable). */
    public ImageDataset head(int n) {
        n = Math.min(n, size());
        int per = channels * height * width;
        byte[] p = java.util.Arrays.copyOf(pixels, n * per);
        byte[] l = java.util.Arrays.copyOf(labels, n);
        return new ImageDataset(name, p, l, channels, height, width, numClasses, mean, std);
    }

    /**
     * The same images zero-padded (centred) to {@code size x size} and replicated to {@code channels} channels:
     * real data in another model's input shape, e.g. Fashion-MNIST as 3x32x32 where CIFAR-10 is not at hand.
     */
    public ImageDataset padAndReplicate(int channels, int size) {
        if (this.channels != 1 || size < height || size < width || channels < 1) {
            throw new IllegalArgumentException(name + ": can only pad single-channel images to a larger size, got "
                    + this.channels + "x" + height + "x" + width + " -> " + channels + "x" + size + "x" + size);
        }
        int top = (size - height) / 2;
        int left = (size - width) / 2;
        int plane = size * size;
        byte[] out = new byte[size() * channels * plane];
        for (int n = 0; n < size(); n++) {
            for (int y = 0; y < height; y++) {
                int src = n * height * width + y * width;
                for (int c = 0; c < channels; c++) {
                    System.arraycopy(pixels, src, out, n * channels * plane + c * plane + (y + top) * size + left,
                            width);
                }
            }
        }
        float[] m = new float[channels];
        float[] sd = new float[channels];
        java.util.Arrays.fill(m, mean[0]);
        java.util.Arrays.fill(sd, std[0]);
        return new ImageDataset(name + "-" + channels + "x" + size, out, labels.clone(), channels, size, size,
                numClasses, m, sd);
    }

    /** The given samples, in that order, as a dataset of their own (a device's slice, to be written out). */
    public ImageDataset subset(int[] indices) {
        int per = channels * height * width;
        byte[] p = new byte[indices.length * per];
        byte[] l = new byte[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * per, p, i * per, per);
            l[i] = labels[indices[i]];
        }
        return new ImageDataset(name, p, l, channels, height, width, numClasses, mean, std);
    }

    /** The raw image bytes (N, C, H, W), for writers in this package; not a copy. */
    byte[] pixelBytes() {
        return pixels;
    }

    /** The raw label bytes, for writers in this package; not a copy. */
    byte[] labelBytes() {
        return labels;
    }

    /** Normalised floats and labels for the given sample indices, in that order. */
    public Batch batch(int[] indices) {
        int per = channels * height * width;
        int plane = height * width;
        float[] x = new float[indices.length * per];
        int[] y = new int[indices.length];
        for (int b = 0; b < indices.length; b++) {
            int src = indices[b] * per;
            int dst = b * per;
            for (int c = 0; c < channels; c++) {
                float m = mean[c];
                float s = std[c];
                int off = c * plane;
                for (int i = 0; i < plane; i++) {
                    x[dst + off + i] = ((pixels[src + off + i] & 0xff) / 255f - m) / s;
                }
            }
            y[b] = Byte.toUnsignedInt(labels[indices[b]]);
        }
        return new Batch(new Tensor(new int[] {indices.length, channels, height, width}, x), y);
    }

    /** Samples {@code from} (inclusive) to {@code to} (exclusive) in order. */
    public Batch range(int from, int to) {
        int[] idx = new int[to - from];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = from + i;
        }
        return batch(idx);
    }
}
