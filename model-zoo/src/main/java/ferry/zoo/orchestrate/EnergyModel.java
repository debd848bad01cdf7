package ferry.zoo.orchestrate;

/**
 * What a round costs a device's battery: joules per floating-point operation it computes and per bit its radio
 * sends or receives. Linear on purpose: the planner needs a prediction it can compare against a battery, and the
 * two constants are the ones measurements of phones and boards report.
 *
 * <p>Defaults, as orders of magnitude:
 * <ul>
 * <li>{@value #DEFAULT_JOULES_PER_FLOP} J/FLOP: a phone SoC's CPU sustains a few GFLOP/s of DNN training while
 * drawing a few watts, i.e. about one GFLOP per joule (dedicated NPUs do better, but training frameworks on phones
 * mostly run on the CPU).
 * <li>{@value #DEFAULT_JOULES_PER_BIT} J/bit: Huang et al., "A Close Examination of Performance and Power
 * Characteristics of 4G LTE Networks" (MobiSys 2012) fit LTE's radio power as about 438 mW per Mbit/s uplink and
 * 52 mW per Mbit/s downlink, i.e. ~0.44 µJ/bit up and ~0.05 µJ/bit down (Wi-Fi ~0.28 µJ/bit up); 0.1 µJ/bit is
 * between the two directions, and split learning sends and receives about as much (activations up, gradients
 * down).
 * </ul>
 * Both apply to the device only: the edge is mains-powered.
 *
 * @param joulesPerFlop energy per floating-point operation on the device, J
 * @param joulesPerBit  energy per bit sent or received by the device's radio, J
 */
public record EnergyModel(double joulesPerFlop, double joulesPerBit) {
    public static final double DEFAULT_JOULES_PER_FLOP = 1e-9;
    public static final double DEFAULT_JOULES_PER_BIT = 1e-7;
    public static final EnergyModel DEFAULT = new EnergyModel(DEFAULT_JOULES_PER_FLOP, DEFAULT_JOULES_PER_BIT);

    public EnergyModel {
        if (!(joulesPerFlop >= 0) || !Double.isFinite(joulesPerFlop)) {
            throw new IllegalArgumentException("joules per FLOP must be >= 0 and finite, got " + joulesPerFlop);
        }
        if (!(joulesPerBit >= 0) || !Double.isFinite(joulesPerBit)) {
            throw new IllegalArgumentException("joules per bit must be >= 0 and finite, got " + joulesPerBit);
        }
    }

    /** The energy of computing {@code flops} and moving {@code bits} over the radio, J. */
    public double joules(double flops, double bits) {
        return flops * joulesPerFlop + bits * joulesPerBit;
    }
}
