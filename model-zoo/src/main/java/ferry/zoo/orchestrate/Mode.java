package ferry.zoo.orchestrate;

/** Where a participant's round runs. */
public enum Mode {
    /** The whole model on the device (FedAvg local training); cut 0. */
    LOCAL,
    /** Split learning: units before the cut on the device, the rest on its edge. */
    OFFLOAD
}
