package ferry.zoo.plan;

/**
 * The edge server and its radio, as the EPSL resource manager sees them. The band is split into equal
 * subchannels (OFDMA); each subchannel belongs to one device.
 *
 * <p>Downlink model (kept deliberately simple, no second gain matrix): the link is time-division duplex, so the
 * edge answers each device on the subchannels that device owns for its uplink, over the same (reciprocal) gains,
 * and its transmit power {@code serverPowerW} is spread evenly over all subchannels. The broadcast part of
 * EPSL's answer (the k aggregated gradient vectors) therefore reaches each device on that device's own
 * subchannels, like its unicast part: a device downloads b vectors whatever φ is, and φ shows on the downlink only
 * as fewer floats the edge sends in total (see {@code ParallelStepResult.downlinkFloats}), not as a shorter round.
 *
 * @param flops          FLOP/s of the edge for training the server half
 * @param bandwidthHz    the whole band, split evenly into {@code subchannels}
 * @param noisePsdWPerHz N0, noise power spectral density in W/Hz (-174 dBm/Hz is 3.98e-21)
 * @param serverPowerW   the edge's downlink transmit power over the whole band
 */
public record PlanEdge(double flops, double bandwidthHz, int subchannels, double noisePsdWPerHz, double serverPowerW) {

    public PlanEdge {
        positive("edge FLOP/s", flops);
        positive("bandwidth (Hz)", bandwidthHz);
        positive("noise power spectral density (W/Hz)", noisePsdWPerHz);
        positive("server transmit power (W)", serverPowerW);
        if (subchannels < 1) {
            throw new IllegalArgumentException("the edge needs at least one subchannel, got " + subchannels);
        }
    }

    private static void positive(String what, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(what + " must be positive and finite, got " + v);
        }
    }

    /** W, the bandwidth of one subchannel. */
    public double subchannelBandwidthHz() {
        return bandwidthHz / subchannels;
    }

    /** The downlink power the edge puts on one subchannel. */
    public double downlinkPowerPerSubchannelW() {
        return serverPowerW / subchannels;
    }
}
