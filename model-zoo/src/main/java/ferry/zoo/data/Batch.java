package ferry.zoo.data;

import ferry.zoo.tensor.Tensor;

/** A batch of normalised inputs (N, C, H, W) and their class labels. */
public record Batch(Tensor inputs, int[] labels) {
    public Batch {
        if (inputs.rank() < 1 || inputs.dim(0) != labels.length) {
            throw new IllegalArgumentException("batch of " + labels.length + " labels but inputs " + inputs);
        }
    }

    public int size() {
        return labels.length;
    }
}
