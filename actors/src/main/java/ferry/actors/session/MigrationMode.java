package ferry.actors.session;

/**
 * What happens to a device's edge-side state when it moves to another edge mid-round.
 * FEDFLY: the state (server-half weights, momentum, batch cursor, pending gradient) is handed off to the new
 * edge and training continues at the next batch. RESTART: the baseline FedFly compares against; the state is
 * lost and the device's round starts again from the global model on the new edge.
 */
public enum MigrationMode {
    FEDFLY, RESTART;

    public static MigrationMode parse(String s) {
        for (MigrationMode m : values()) {
            if (m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown migration mode '" + s + "'; known: fedfly, restart");
    }
}
