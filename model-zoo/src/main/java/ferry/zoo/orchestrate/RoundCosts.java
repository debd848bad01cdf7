package ferry.zoo.orchestrate;

import ferry.zoo.model.CutProfile;
import ferry.zoo.model.ModelSpec;

/**
 * What one device's round costs at each cut, from the model's per-sample profile: FLOPs on the device and on the
 * edge, and the bytes the device's radio moves. Cut 0 is local training (the whole model on the device); cuts
 * 1..units-1 are split training. A round trains the device's samples for the local epochs in batches.
 *
 * <p>Bytes, as Ferry's wire carries them ({@code LocalTraining.splitStep}, {@code TensorCodec}):
 * <ul>
 * <li>split: each step sends the activations as an encoded tensor (a rank byte, an int per dimension, the floats)
 * plus the labels (an int each) up and the cut-layer gradient (same size as the activations) down;
 * <li>model sync: at the start of the round the device downloads the weights it trains (the whole model for local
 * training, the client half for split) and at the end uploads them for FedAvg, running statistics included.
 * </ul>
 */
public final class RoundCosts {
    private final ModelSpec spec;
    private final int batch;
    private final int epochs;
    private final long[] deviceFlopsPerSample;
    private final long[] edgeFlopsPerSample;
    private final long[] activationBytes;
    private final long[] headerBytes;
    private final long[] deviceParamBytes;

    public RoundCosts(ModelSpec spec, int batch, int epochs) {
        if (spec == null) {
            throw new IllegalArgumentException("no model to plan for");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("local epochs must be at least 1, got " + epochs);
        }
        this.spec = spec;
        this.batch = batch;
        this.epochs = epochs;
        int cuts = spec.units().size();
        deviceFlopsPerSample = new long[cuts];
        edgeFlopsPerSample = new long[cuts];
        activationBytes = new long[cuts];
        headerBytes = new long[cuts];
        deviceParamBytes = new long[cuts];
        for (int c = 1; c < cuts; c++) {
            CutProfile p = spec.profile(c);
            deviceFlopsPerSample[c] = p.clientForwardFlops() + p.clientBackwardFlops();
            edgeFlopsPerSample[c] = p.serverForwardFlops() + p.serverBackwardFlops();
            activationBytes[c] = p.activationBytes();
            headerBytes[c] = 1 + 4L * (spec.shapeAt(c).length + 1); // rank byte, batch + per-sample dimensions
            deviceParamBytes[c] = p.clientParamBytes();
        }
        CutProfile any = spec.profile(1);
        deviceFlopsPerSample[0] = deviceFlopsPerSample[1] + edgeFlopsPerSample[1];
        deviceParamBytes[0] = any.clientParamBytes() + any.serverParamBytes();
    }

    public ModelSpec spec() {
        return spec;
    }

    public int batch() {
        return batch;
    }

    public int epochs() {
        return epochs;
    }

    /** The cuts a device may take: 0 (local) and 1..units-1 (split). */
    public int cuts() {
        return deviceFlopsPerSample.length;
    }

    /** Training steps in a round of a device with {@code samples} samples. */
    public long steps(int samples) {
        return (long) epochs * ((samples + batch - 1) / batch);
    }

    /** FLOPs the device computes in a round (forward and backward). */
    public double deviceFlops(int samples, int cut) {
        check(cut);
        return (double) epochs * samples * deviceFlopsPerSample[cut];
    }

    /** FLOPs the edge computes for the device in a round (0 for local training). */
    public double edgeFlops(int samples, int cut) {
        check(cut);
        return (double) epochs * samples * edgeFlopsPerSample[cut];
    }

    /** Split-step bytes in a round, both ways: activations, labels and gradients with their headers (0 at cut 0). */
    public long splitBytes(int samples, int cut) {
        check(cut);
        if (cut == 0) {
            return 0;
        }
        long sampleSteps = (long) epochs * samples;
        return 2 * headerBytes[cut] * steps(samples) + sampleSteps * (2 * activationBytes[cut] + 4);
    }

    /** Bytes of the weights the device trains: downloaded at the round's start and uploaded at its end. */
    public long deviceModelBytes(int cut) {
        check(cut);
        return deviceParamBytes[cut];
    }

    /** Every bit the device's radio moves in a round: the split steps and the model download and upload. */
    public double deviceBits(int samples, int cut) {
        return 8.0 * (splitBytes(samples, cut) + 2 * deviceModelBytes(cut));
    }

    private void check(int cut) {
        if (cut < 0 || cut >= cuts()) {
            throw new IllegalArgumentException(spec.name() + ": cut " + cut + " is not 0 (local) or a split cut 1.."
                    + (cuts() - 1));
        }
    }
}
