package ferry.zoo.train;

import ai.djl.nn.Parameter;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Deterministic initial values, independent of any native RNG: the same (seed, unit, index) gives the same floats
 * in every half, process and machine, so a split model and its monolithic twin start identical.
 */
final class Init {
    private Init() {}

    static float[] values(Parameter.Type type, long[] shape, long seed, int unit, int index) {
        int n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, (int) d);
        }
        float[] v = new float[n];
        switch (type) {
            case WEIGHT -> {
                // He-uniform for ReLU networks: U(-b, b), b = sqrt(6 / fan_in).
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                double bound = Math.sqrt(6.0 / Math.max(1, fanIn));
                SplittableRandom rnd = new SplittableRandom(mix(seed, unit, index));
                for (int i = 0; i < n; i++) {
                    v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                }
            }
            case GAMMA, RUNNING_VAR -> Arrays.fill(v, 1f);
            default -> { } // biases, beta and running means start at zero
        }
        return v;
    }

    private static long mix(long seed, int unit, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + unit * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 31);
    }
}
