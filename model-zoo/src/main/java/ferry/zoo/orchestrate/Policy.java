package ferry.zoo.orchestrate;

/** How the round planner treats batteries. */
public enum Policy {
    /**
     * A device takes part only if its battery is at or above the threshold and can pay for the round; among the
     * options that fit, the planner weighs time against energy (see {@link RoundPlanner}).
     */
    BATTERY_AWARE,
    /** Batteries are not looked at: a device takes part if some option meets the deadline; the fastest wins. */
    BATTERY_BLIND
}
