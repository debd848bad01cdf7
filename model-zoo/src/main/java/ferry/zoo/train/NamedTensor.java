package ferry.zoo.train;

import ferry.zoo.tensor.Tensor;

/** A parameter (or its optimizer state) by its canonical name, e.g. {@code u4.conv64b.0.weight}. */
public record NamedTensor(String name, Tensor tensor) {}
