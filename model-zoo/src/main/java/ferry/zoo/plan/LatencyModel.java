package ferry.zoo.plan;

import ferry.zoo.model.CutProfile;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * EPSL's per-round latency for N devices sharing one edge, from a cut's per-sample costs ({@link CutProfile}),
 * the devices, the edge, the batch b and the aggregated share φ.
 *
 * <p>Rates: subchannel s carries W·log2(1 + p·g/(W·N0)) bit/s (Shannon), W = bandwidth / subchannels. A device
 * splits its transmit power evenly over the subchannels it owns (no water-filling: one power number per device is
 * what the resource manager controls); the edge puts serverPower / subchannels on every subchannel and answers
 * each device on that device's subchannels (see {@link PlanEdge} for the downlink model).
 *
 * <p>Terms, with k = floor(φ·b) aggregated positions per batch (as {@code ParallelServerHalf} counts them) and
 * a = the activation (= cut-layer gradient) bytes of one sample:
 * <ul>
 * <li>client forward b·clientFwdFlops / f_i, uplink b·a·8 / r_i^up;
 * <li>server forward N·b·serverFwdFlops / f_s; server backward (k + N(b−k))·serverBwdFlops / f_s — the vectors
 * EPSL back-propagates;
 * <li>downlink (k·a + (b−k)·a)·8 / r_i^down (broadcast + unicast, both on device i's subchannels), client
 * backward b·clientBwdFlops / f_i.
 * </ul>
 */
public final class LatencyModel {
    private final List<PlanDevice> devices;
    private final PlanEdge edge;
    private final int batch;
    private final double phi;
    private final int aggregated;

    /** Checks that every device has one gain per subchannel, ids are distinct, b ≥ 1 and 0 ≤ φ ≤ 1. */
    public LatencyModel(List<PlanDevice> devices, PlanEdge edge, int batch, double phi) {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("no devices to plan for: EPSL needs at least one device");
        }
        if (edge == null) {
            throw new IllegalArgumentException("no edge to plan for");
        }
        Set<String> ids = new HashSet<>();
        for (PlanDevice d : devices) {
            if (d == null) {
                throw new IllegalArgumentException("the device list holds a null device");
            }
            if (!ids.add(d.id())) {
                throw new IllegalArgumentException("device id '" + d.id() + "' appears twice");
            }
            if (d.channelGain().length != edge.subchannels()) {
                throw new IllegalArgumentException("device '" + d.id() + "' has " + d.channelGain().length
                        + " channel gains, expected one per subchannel of the edge (" + edge.subchannels() + ")");
            }
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
        if (!(phi >= 0 && phi <= 1)) {
            throw new IllegalArgumentException("phi (the aggregated share of each batch) must be in [0, 1], got "
                    + phi);
        }
        this.devices = List.copyOf(devices);
        this.edge = edge;
        this.batch = batch;
        this.phi = phi;
        // Same rule as ParallelServerHalf.aggregatedPositions; repeated so the planner needs no DJL class.
        this.aggregated = Math.min(batch, (int) Math.floor(phi * batch + 1e-9));
    }

    public List<PlanDevice> devices() {
        return devices;
    }

    public PlanEdge edge() {
        return edge;
    }

    public int batch() {
        return batch;
    }

    public double phi() {
        return phi;
    }

    /** k = floor(φ·b). */
    public int aggregatedPositions() {
        return aggregated;
    }

    /** Shannon rate of one subchannel, bit/s: W·log2(1 + p·g/(W·N0)). */
    public static double shannonRate(double bandwidthHz, double powerW, double gain, double noisePsdWPerHz) {
        return bandwidthHz * Math.log(1 + powerW * gain / (bandwidthHz * noisePsdWPerHz)) / Math.log(2);
    }

    /** Device {@code device}'s uplink rate with {@code powerW} split evenly over the subchannels it owns. */
    public double uplinkRate(int device, int[] owner, double powerW) {
        int owned = count(owner, device);
        if (owned == 0) {
            return 0;
        }
        double perSubchannel = powerW / owned;
        double w = edge.subchannelBandwidthHz();
        double rate = 0;
        for (int s = 0; s < owner.length; s++) {
            if (owner[s] == device) {
                rate += shannonRate(w, perSubchannel, devices.get(device).gain(s), edge.noisePsdWPerHz());
            }
        }
        return rate;
    }

    /** The edge's rate to {@code device} on that device's subchannels. */
    public double downlinkRate(int device, int[] owner) {
        double w = edge.subchannelBandwidthHz();
        double rate = 0;
        for (int s = 0; s < owner.length; s++) {
            if (owner[s] == device) {
                rate += shannonRate(w, edge.downlinkPowerPerSubchannelW(), devices.get(device).gain(s),
                        edge.noisePsdWPerHz());
            }
        }
        return rate;
    }

    /**
     * The round's latency for a cut, a subchannel assignment and the devices' transmit powers.
     *
     * @param owner {@code owner[s]} is the device (index into the device list) that owns subchannel s, or -1 if
     *              nobody uses it; a device that owns none can neither send nor receive (infinite time)
     * @param power each device's uplink power, 0 ≤ power ≤ its max
     */
    public LatencyBreakdown round(CutProfile cut, int[] owner, double[] power) {
        checkAssignment(owner, power);
        int n = devices.size();
        double bits = 8.0 * cut.activationBytes();
        double[] fwd = new double[n];
        double[] up = new double[n];
        double[] down = new double[n];
        double[] bwd = new double[n];
        for (int i = 0; i < n; i++) {
            double f = devices.get(i).flops();
            fwd[i] = batch * (double) cut.clientForwardFlops() / f;
            bwd[i] = batch * (double) cut.clientBackwardFlops() / f;
            up[i] = uplinkTime(cut, i, owner, power[i]);
            double downBits = aggregated * bits + (batch - aggregated) * bits; // broadcast + unicast
            down[i] = downBits / downlinkRate(i, owner);
        }
        double serverFwd = (double) n * batch * cut.serverForwardFlops() / edge.flops();
        double serverBwd = (aggregated + (double) n * (batch - aggregated)) * cut.serverBackwardFlops() / edge.flops();
        return LatencyBreakdown.of(fwd, up, serverFwd, serverBwd, down, bwd);
    }

    /** b·a·8 / r_i^up: the one expression both the round and the power step use, so they agree to the bit. */
    double uplinkTime(CutProfile cut, int device, int[] owner, double powerW) {
        return batch * (8.0 * cut.activationBytes()) / uplinkRate(device, owner, powerW);
    }

    private void checkAssignment(int[] owner, double[] power) {
        if (owner == null || owner.length != edge.subchannels()) {
            throw new IllegalArgumentException("the assignment needs one owner per subchannel (" + edge.subchannels()
                    + "), got " + (owner == null ? "none" : owner.length));
        }
        for (int s = 0; s < owner.length; s++) {
            if (owner[s] < -1 || owner[s] >= devices.size()) {
                throw new IllegalArgumentException("subchannel " + s + " is given to device " + owner[s]
                        + "; expected -1 (unused) or 0.." + (devices.size() - 1));
            }
        }
        if (power == null || power.length != devices.size()) {
            throw new IllegalArgumentException("need one transmit power per device (" + devices.size() + "), got "
                    + (power == null ? "none" : power.length));
        }
        for (int i = 0; i < power.length; i++) {
            PlanDevice d = devices.get(i);
            if (!(power[i] >= 0) || power[i] > d.maxPowerW()) {
                throw new IllegalArgumentException("device '" + d.id() + "': transmit power " + power[i]
                        + " W is outside 0.." + d.maxPowerW() + " W");
            }
        }
    }

    static int count(int[] owner, int device) {
        int c = 0;
        for (int o : owner) {
            if (o == device) {
                c++;
            }
        }
        return c;
    }
}
