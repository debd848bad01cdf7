package ferry.actors.session;

/**
 * How a parallel split learning session (psl, epsl) is laid out: at the spec's cut with every device's share of
 * the edge's subchannels equal and at full power (FIXED), or by the EPSL resource manager, which picks the cut, the
 * subchannels and each device's power to minimise the predicted round latency (OPTIMISED). Either way the session
 * records the predicted step latency beside the measured one.
 */
public enum Planning { FIXED, OPTIMISED }
