package ferry.actors.device;

import ferry.persistence.CborSerializable;

/** What a device can do: compute (FLOP/s), link rate (bit/s) and battery (J). Planning uses it. */
public record DeviceProfile(double flops, double linkBitsPerSecond, double batteryJoules) implements CborSerializable {
    public static final DeviceProfile DEFAULT = new DeviceProfile(5e9, 50e6, 10_000);

    public DeviceProfile {
        if (!(flops > 0) || !(linkBitsPerSecond > 0) || !(batteryJoules >= 0)) {
            throw new IllegalArgumentException("device profile needs positive FLOP/s and link rate and a battery"
                    + " >= 0, got " + flops + ", " + linkBitsPerSecond + ", " + batteryJoules);
        }
    }
}
