package ferry.zoo.train;

import ferry.zoo.tensor.Tensor;

/**
 * What one training step on the server side (or a whole model) reports: mean loss over the batch, how many
 * predictions were right, and for a server half the cut-layer gradient to send back (null for a whole model).
 */
public record StepResult(float loss, int correct, int samples, Tensor cutGradient) {}
