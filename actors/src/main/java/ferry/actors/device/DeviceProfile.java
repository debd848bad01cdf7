package ferry.actors.device;

import ferry.persistence.CborSerializable;

/**
 * What a device can do: compute (FLOP/s), link rate (bit/s) and battery (J), and for the EPSL resource manager
 * its radio: the most it may transmit with (W) and its mean channel gain to its edge (dB, path loss included).
 * Planning uses it.
 *
 * <p>Radio fields written as 0 (profiles registered before they existed, or left out) mean the defaults: 0.2 W,
 * a typical phone's uplink limit, and −100 dB, a device some tens of metres from a small cell.
 */
public record DeviceProfile(double flops, double linkBitsPerSecond, double batteryJoules, double txPowerW,
                            double channelGainDb) implements CborSerializable {
    public static final double DEFAULT_TX_POWER_W = 0.2;
    public static final double DEFAULT_CHANNEL_GAIN_DB = -100;
    public static final DeviceProfile DEFAULT = new DeviceProfile(5e9, 50e6, 10_000);

    public DeviceProfile(double flops, double linkBitsPerSecond, double batteryJoules) {
        this(flops, linkBitsPerSecond, batteryJoules, 0, 0);
    }

    public DeviceProfile {
        if (!(flops > 0) || !(linkBitsPerSecond > 0) || !(batteryJoules >= 0)) {
            throw new IllegalArgumentException("device profile needs positive FLOP/s and link rate and a battery"
                    + " >= 0, got " + flops + ", " + linkBitsPerSecond + ", " + batteryJoules);
        }
        txPowerW = txPowerW == 0 ? DEFAULT_TX_POWER_W : txPowerW;
        channelGainDb = channelGainDb == 0 ? DEFAULT_CHANNEL_GAIN_DB : channelGainDb;
        if (!(txPowerW > 0) || !Double.isFinite(txPowerW) || !(channelGainDb < 0) || !Double.isFinite(channelGainDb)) {
            throw new IllegalArgumentException("device profile needs a positive transmit power and a channel gain"
                    + " below 0 dB, got " + txPowerW + " W, " + channelGainDb + " dB");
        }
    }
}
