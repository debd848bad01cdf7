package ferry.http;

import ferry.actors.device.DataPartition;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;

/**
 * A device registered over HTTP: its id, profile (compute, link, battery, radio), which part of a dataset it
 * holds, and the edge it attaches to. Left-out fields take the defaults of {@link DeviceProfile}, an IID part
 * {@code index} of {@code parts} of Fashion-MNIST's first {@code poolSize} samples (0: all).
 *
 * <p>{@code remote: true} registers a real device that trains outside the cluster over gRPC: it holds
 * {@code samples} samples of {@code dataset} itself, and authenticates with {@code token} (16-256 characters of
 * base64url; left out, one is made and returned once). Only the token's SHA-256 is kept.
 */
public record DeviceRequest(String id, Double flops, Double linkBitsPerSecond, Double batteryJoules,
                            Double txPowerW, Double channelGainDb, String dataset, String scheme, Integer parts,
                            Integer index, Double alpha, Long seed, Integer poolSize, String edge, Boolean remote,
                            Integer samples, String token) {

    boolean isRemote() {
        return remote != null && remote;
    }

    DeviceProfile profile() {
        DeviceProfile d = DeviceProfile.DEFAULT;
        return new DeviceProfile(or(flops, d.flops()), or(linkBitsPerSecond, d.linkBitsPerSecond()),
                or(batteryJoules, d.batteryJoules()), or(txPowerW, 0), or(channelGainDb, 0));
    }

    DataPartition partition() {
        if (isRemote()) {
            if (samples == null || samples < 1) {
                throw new IllegalArgumentException("a remote device needs 'samples': how many samples it holds");
            }
            return DataPartition.remote(dataset == null ? DatasetRegistry.FASHION_MNIST : dataset, samples);
        }
        if (samples != null || token != null) {
            throw new IllegalArgumentException("'samples' and 'token' are for remote devices (\"remote\": true)");
        }
        return new DataPartition(dataset == null ? DatasetRegistry.FASHION_MNIST : dataset,
                scheme == null ? "iid" : scheme, parts == null ? 1 : parts, index == null ? 0 : index,
                or(alpha, 0), seed == null ? 1 : seed, poolSize == null ? 0 : poolSize);
    }

    private static double or(Double v, double dflt) {
        return v == null ? dflt : v;
    }
}
