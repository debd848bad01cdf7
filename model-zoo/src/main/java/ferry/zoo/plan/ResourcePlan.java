package ferry.zoo.plan;

import java.util.Arrays;

/**
 * What the resource manager decided for an EPSL round: the cut, who owns which subchannel, each device's uplink
 * transmit power, and the latency the model predicts for that.
 *
 * @param subchannelOwner {@code subchannelOwner[s]} is the index (into the device list) of subchannel s's owner
 * @param power           each device's uplink power, watts
 * @param iterations      rounds of block-coordinate descent the plan took at its cut (0 for a fixed baseline)
 */
public record ResourcePlan(int cut, int[] subchannelOwner, double[] power, LatencyBreakdown predicted,
                           int iterations) {

    public ResourcePlan {
        subchannelOwner = subchannelOwner.clone();
        power = power.clone();
    }

    @Override
    public int[] subchannelOwner() {
        return subchannelOwner.clone();
    }

    @Override
    public double[] power() {
        return power.clone();
    }

    /** How many subchannels device {@code device} owns. */
    public int subchannelsOf(int device) {
        return LatencyModel.count(subchannelOwner, device);
    }

    /** Σ_i power_i · uplink_i: the energy the devices spend transmitting in a round, joules. */
    public double uplinkEnergyJoules() {
        double[] up = predicted.uplink();
        double e = 0;
        for (int i = 0; i < power.length; i++) {
            e += power[i] * up[i];
        }
        return e;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResourcePlan p && cut == p.cut && Arrays.equals(subchannelOwner, p.subchannelOwner)
                && Arrays.equals(power, p.power) && predicted.equals(p.predicted) && iterations == p.iterations;
    }

    @Override
    public int hashCode() {
        return (cut * 31 + Arrays.hashCode(subchannelOwner)) * 31 + Arrays.hashCode(power);
    }

    @Override
    public String toString() {
        return "ResourcePlan[cut " + cut + ", owners " + Arrays.toString(subchannelOwner) + ", power "
                + Arrays.toString(power) + " W, " + predicted + ", " + iterations + " iterations]";
    }
}
