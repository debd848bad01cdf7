package ferry.actors.device;

import ferry.actors.node.DatasetRegistry;
import ferry.persistence.CborSerializable;

/**
 * Which samples a simulated device owns: part {@code index} of {@code parts} of the first {@code poolSize}
 * training samples (0 = all), split IID or by Dirichlet(alpha) label skew with a seed. A description, not the
 * data: the device resolves it on its own node.
 */
public record DataPartition(String dataset, String scheme, int parts, int index, double alpha, long seed,
                            int poolSize) implements CborSerializable {
    public DataPartition {
        DatasetRegistry.checkName(dataset);
        if (!scheme.equals("iid") && !scheme.equals("dirichlet")) {
            throw new IllegalArgumentException("partition scheme must be iid or dirichlet, got '" + scheme + "'");
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

    public static DataPartition iid(String dataset, int parts, int index, long seed, int poolSize) {
        return new DataPartition(dataset, "iid", parts, index, 0, seed, poolSize);
    }
}
