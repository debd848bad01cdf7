package ferry.zoo.plan;

import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import java.util.ArrayList;
import java.util.List;

/** Deterministic devices and edges for the planning tests. */
final class PlanScenarios {
    static final ModelSpec VGG = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
    /** -174 dBm/Hz. */
    static final double N0 = 3.98e-21;

    private PlanScenarios() {}

    /** 10 MHz, a 1 TFLOP/s edge transmitting with 1 W. */
    static PlanEdge edge(int subchannels) {
        return new PlanEdge(1e12, 10e6, subchannels, N0, 1.0);
    }

    /** Gains around {@code base}, varying by subchannel between 0.5x and 1.4x (a fixed fading pattern). */
    static double[] gains(double base, int device, int subchannels) {
        double[] g = new double[subchannels];
        for (int s = 0; s < subchannels; s++) {
            g[s] = base * (0.5 + ((device * 7 + s * 13) % 10) / 10.0);
        }
        return g;
    }

    /** Half the devices fast (10 GFLOP/s, gain ~1e-10), half slow: 10x fewer FLOP/s and 10x weaker channels. */
    static List<PlanDevice> heterogeneous(int n, int subchannels) {
        List<PlanDevice> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean fast = i % 2 == 0;
            out.add(new PlanDevice((fast ? "fast" : "slow") + i, fast ? 1e10 : 1e9, 0.2,
                    gains(fast ? 1e-10 : 1e-11, i, subchannels)));
        }
        return out;
    }

    /** Identical compute and power, gains still varying by subchannel. */
    static List<PlanDevice> homogeneous(int n, int subchannels) {
        List<PlanDevice> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new PlanDevice("dev" + i, 5e9, 0.2, gains(5e-11, i, subchannels)));
        }
        return out;
    }
}
