package ferry.zoo.plan;

import java.util.Arrays;

/**
 * A device as the EPSL resource manager sees it: how fast it computes, the most it may transmit with, and its
 * channel gain (linear power gain, path loss and fading included) on each of the edge's subchannels. The
 * downlink uses the same gains (see {@link PlanEdge}).
 *
 * @param flops       FLOP/s the device sustains for training
 * @param maxPowerW   its uplink transmit power limit, watts
 * @param channelGain one gain per subchannel of the edge, index = subchannel
 */
public record PlanDevice(String id, double flops, double maxPowerW, double[] channelGain) {

    public PlanDevice {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("a device needs a non-blank id");
        }
        if (!(flops > 0) || !Double.isFinite(flops)) {
            throw new IllegalArgumentException("device '" + id + "': FLOP/s must be positive and finite, got " + flops);
        }
        if (!(maxPowerW > 0) || !Double.isFinite(maxPowerW)) {
            throw new IllegalArgumentException("device '" + id + "': max power must be positive and finite, got "
                    + maxPowerW + " W");
        }
        if (channelGain == null || channelGain.length == 0) {
            throw new IllegalArgumentException("device '" + id + "': needs one channel gain per subchannel, got none");
        }
        channelGain = channelGain.clone();
        for (int s = 0; s < channelGain.length; s++) {
            if (!(channelGain[s] > 0) || !Double.isFinite(channelGain[s])) {
                throw new IllegalArgumentException("device '" + id + "': channel gain on subchannel " + s
                        + " must be positive and finite, got " + channelGain[s]);
            }
        }
    }

    @Override
    public double[] channelGain() {
        return channelGain.clone();
    }

    double gain(int subchannel) {
        return channelGain[subchannel];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PlanDevice d && id.equals(d.id) && flops == d.flops && maxPowerW == d.maxPowerW
                && Arrays.equals(channelGain, d.channelGain);
    }

    @Override
    public int hashCode() {
        return ((31 * id.hashCode() + Double.hashCode(flops)) * 31 + Double.hashCode(maxPowerW)) * 31
                + Arrays.hashCode(channelGain);
    }

    @Override
    public String toString() {
        return "PlanDevice[" + id + ", " + flops + " FLOP/s, " + maxPowerW + " W, gains "
                + Arrays.toString(channelGain) + "]";
    }
}
