package ferry.zoo.model;

/**
 * What a cut after unit {@code cut - 1} costs, per sample: the device ("client") runs units [0, cut), the edge
 * ("server") the rest. Activation bytes are what crosses the link each way per sample (activations up, the
 * cut-layer gradient down, both float32). Parameter bytes count everything a half stores, running statistics too.
 */
public record CutProfile(
        int cut,
        String lastClientUnit,
        long clientForwardFlops,
        long clientBackwardFlops,
        long serverForwardFlops,
        long serverBackwardFlops,
        long activationBytes,
        long clientParamBytes,
        long serverParamBytes) {}
