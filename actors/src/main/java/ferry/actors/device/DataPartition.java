package ferry.actors.device;

import ferry.actors.node.DatasetRegistry;
import ferry.persistence.CborSerializable;

/**
 * Which samples a simulated device owns: part {@code index} of {@code parts} of the first {@code poolSize}
 * training samples (0 = all), split IID or by Dirichlet(alpha) label skew with a seed. A description, not the
 * data: the device resolves it on its own node.
 *
 * <p>Scheme {@code remote}: a real device that holds its own {@code poolSize} samples of the dataset, outside the
 * cluster (see {@link #remote(String, int)}); the cluster never sees them.
 */
public record DataPartition(String dataset, String scheme, int parts, int index, double alpha, long seed,
                            int poolSize) implements CborSerializable {
    public DataPartition {
        DatasetRegistry.checkName(dataset);
        if (!scheme.equals("iid") && !scheme.equals("dirichlet") && !scheme.equals(REMOTE)) {
            throw new IllegalArgumentException("partition scheme must be iid or dirichlet (or remote, for a real device), got '" + scheme
                    + "'");
        }
        if (scheme.equals(REMOTE) && poolSize < 1) {
            throw new IllegalArgumentException("a remote device must hold at least one sample, got " + poolSize);
        }
        if (parts < 1 || index < 0 || index >= parts) {
            throw new IllegalArgumentException("partition index " + index + " is not in 0.." + (parts - 1));
        }
        if (scheme.equals("dirichlet") && !(alpha > 0)) {
            throw new IllegalArgumentException("Dirichlet alpha must be positive, got " + alpha);
        }
        if (poolSize < 0) {
            throw new IllegalArgumentException("pool size must be >= 0 (0 = whole dataset), got " + poolSize);
        }
    }

    public static final String REMOTE = "remote";

    /** The samples of a real device: {@code samples} of {@code dataset}, on the device itself. */
    public static DataPartition remote(String dataset, int samples) {
        return new DataPartition(dataset, REMOTE, 1, 0, 0, 0, samples);
    }

    public boolean remote() {
        return REMOTE.equals(scheme);
    }

    public static DataPartition iid(String dataset, int parts, int index, long seed, int poolSize) {
        return new DataPartition(dataset, "iid", parts, index, 0, seed, poolSize);
    }
}
