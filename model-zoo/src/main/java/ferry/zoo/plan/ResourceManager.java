package ferry.zoo.plan;

import ferry.zoo.model.CutProfile;
import ferry.zoo.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * EPSL's resource manager: picks the cut, gives out the subchannels and sets the devices' transmit powers to make
 * a round as short as the {@link LatencyModel} predicts it can be, then spend as little uplink energy as that
 * allows. Deterministic: the same input gives the same plan (ties go to the lower index, the lower cut).
 *
 * <p>The cut is searched exhaustively. At each cut, block-coordinate descent over two blocks:
 * <ol>
 * <li>subchannels. The first round builds an assignment greedily: one subchannel each, the device that would be
 * slowest choosing first, then the rest best gain first, each to the device that lowers the round latency most —
 * the one that bounds it — (if none can, to the device with the longest own round); the round-robin split is
 * kept instead if it is better. Later rounds move one subchannel to another device, or swap two, whichever lowers
 * the latency most.
 * <li>power, a convex step: each device takes the least power (bisection: its uplink time falls as its power
 * rises) that keeps its forward + upload within the current bottleneck's, never above its max. The bottleneck
 * keeps its max power, so the latency does not change and the energy drops.
 * </ol>
 * The power block never changes the latency, so block 1 scores assignments at maximum power (the power block
 * re-solved), and the descent stops when block 1 finds nothing that lowers the latency (or after
 * {@link #MAX_ROUNDS}).
 */
public final class ResourceManager {
    /** Bound on block-coordinate descent rounds per cut. */
    public static final int MAX_ROUNDS = 1000;
    private static final int BISECTION_STEPS = 100;
    /** A change counts as an improvement only above this relative size, so rounding cannot make it cycle. */
    private static final double IMPROVEMENT = 1e-12;

    private ResourceManager() {}

    /** The best plan over every valid cut of {@code spec}. */
    public static ResourcePlan plan(ModelSpec spec, List<PlanDevice> devices, PlanEdge edge, int batch, double phi) {
        LatencyModel model = checked(devices, edge, batch, phi);
        ResourcePlan best = null;
        for (CutProfile profile : spec.profiles()) {
            ResourcePlan p = optimise(model, profile);
            if (best == null || p.predicted().total() < best.predicted().total()) {
                best = p;
            }
        }
        return best;
    }

    /** The best plan at a given cut. */
    public static ResourcePlan planAtCut(ModelSpec spec, int cut, List<PlanDevice> devices, PlanEdge edge, int batch,
                                         double phi) {
        LatencyModel model = checked(devices, edge, batch, phi);
        return optimise(model, spec.profile(cut));
    }

    /** The baseline: the model's default cut, subchannels round-robin (s to device s mod N), every device at max power. */
    public static ResourcePlan equalSplit(ModelSpec spec, List<PlanDevice> devices, PlanEdge edge, int batch,
                                          double phi) {
        return equalSplit(spec, spec.defaultCut(), devices, edge, batch, phi);
    }

    /** The baseline at a given cut. */
    public static ResourcePlan equalSplit(ModelSpec spec, int cut, List<PlanDevice> devices, PlanEdge edge,
                                          int batch, double phi) {
        LatencyModel model = checked(devices, edge, batch, phi);
        CutProfile profile = spec.profile(cut);
        int[] owner = roundRobin(edge.subchannels(), devices.size());
        double[] power = maxPower(model);
        return new ResourcePlan(cut, owner, power, model.round(profile, owner, power), 0);
    }

    private static LatencyModel checked(List<PlanDevice> devices, PlanEdge edge, int batch, double phi) {
        LatencyModel model = new LatencyModel(devices, edge, batch, phi);
        if (edge.subchannels() < devices.size()) {
            throw new IllegalArgumentException(devices.size() + " devices need at least " + devices.size()
                    + " subchannels (one each), the edge has " + edge.subchannels());
        }
        return model;
    }

    private static ResourcePlan optimise(LatencyModel model, CutProfile profile) {
        double[] max = maxPower(model);
        int[] owner = greedy(model, profile, max);
        int[] roundRobin = roundRobin(model.edge().subchannels(), model.devices().size());
        double latency = total(model, profile, owner, max);
        if (total(model, profile, roundRobin, max) < latency) {
            owner = roundRobin;
            latency = total(model, profile, owner, max);
        }
        double[] power = minimalPower(model, profile, owner);
        int rounds = 1;
        while (rounds < MAX_ROUNDS) {
            int[] better = bestMove(model, profile, owner, max, latency);
            if (better == null) {
                break;
            }
            owner = better;
            latency = total(model, profile, owner, max);
            power = minimalPower(model, profile, owner);
            rounds++;
        }
        return new ResourcePlan(profile.cut(), owner, power, model.round(profile, owner, power), rounds);
    }

    /** Block 1, first round: one subchannel each (slowest device first), then the rest best gain first. */
    static int[] greedy(LatencyModel model, CutProfile profile, double[] power) {
        List<PlanDevice> devices = model.devices();
        int n = devices.size();
        int m = model.edge().subchannels();
        int[] owner = new int[m];
        Arrays.fill(owner, -1);
        boolean[] served = new boolean[n];
        for (int round = 0; round < n; round++) {
            int pick = -1;
            int pickChannel = -1;
            double pickTime = -1;
            for (int i = 0; i < n; i++) {
                if (served[i]) {
                    continue;
                }
                int s = bestFree(devices.get(i), owner);
                owner[s] = i;
                LatencyBreakdown alone = model.round(profile, owner, power);
                owner[s] = -1;
                double own = alone.clientForward()[i] + alone.uplink()[i] + alone.downlink()[i]
                        + alone.clientBackward()[i];
                if (own > pickTime) {
                    pick = i;
                    pickChannel = s;
                    pickTime = own;
                }
            }
            owner[pickChannel] = pick;
            served[pick] = true;
        }
        for (int s : bestGainFirst(devices, owner)) {
            LatencyBreakdown now = model.round(profile, owner, power);
            int pick = -1;
            double pickTotal = Double.POSITIVE_INFINITY;
            double pickOwn = -1;
            for (int i = 0; i < n; i++) {
                owner[s] = i;
                double t = model.round(profile, owner, power).total();
                owner[s] = -1;
                double own = now.clientForward()[i] + now.uplink()[i] + now.downlink()[i] + now.clientBackward()[i];
                if (pick < 0 || t < pickTotal || (t == pickTotal && own > pickOwn)) {
                    pick = i;
                    pickTotal = t;
                    pickOwn = own;
                }
            }
            owner[s] = pick;
        }
        return owner;
    }

    /** The free subchannel with the highest gain for this device (the lowest index of equals). */
    private static int bestFree(PlanDevice d, int[] owner) {
        int best = -1;
        for (int s = 0; s < owner.length; s++) {
            if (owner[s] < 0 && (best < 0 || d.gain(s) > d.gain(best))) {
                best = s;
            }
        }
        return best;
    }

    /** Free subchannels, highest best-device gain first. */
    private static List<Integer> bestGainFirst(List<PlanDevice> devices, int[] owner) {
        List<Integer> free = new ArrayList<>();
        for (int s = 0; s < owner.length; s++) {
            if (owner[s] < 0) {
                free.add(s);
            }
        }
        free.sort((a, b) -> {
            int byGain = Double.compare(bestGain(devices, b), bestGain(devices, a));
            return byGain != 0 ? byGain : Integer.compare(a, b);
        });
        return free;
    }

    private static double bestGain(List<PlanDevice> devices, int s) {
        double g = 0;
        for (PlanDevice d : devices) {
            g = Math.max(g, d.gain(s));
        }
        return g;
    }

    /**
     * Block 1, later rounds: the single move (a subchannel to another device, its owner keeping at least one) or
     * swap (two subchannels of different owners) that lowers the latency most; null if none lowers it.
     */
    private static int[] bestMove(LatencyModel model, CutProfile profile, int[] owner, double[] power, double now) {
        int n = model.devices().size();
        int[] counts = new int[n];
        for (int o : owner) {
            counts[o]++;
        }
        int[] best = null;
        double bestTotal = now * (1 - IMPROVEMENT);
        int[] trial = owner.clone();
        for (int s = 0; s < owner.length; s++) {
            for (int j = 0; j < n; j++) {
                if (j == owner[s] || counts[owner[s]] < 2) {
                    continue;
                }
                trial[s] = j;
                double t = total(model, profile, trial, power);
                if (t < bestTotal) {
                    best = trial.clone();
                    bestTotal = t;
                }
                trial[s] = owner[s];
            }
        }
        for (int s = 0; s < owner.length; s++) {
            for (int u = s + 1; u < owner.length; u++) {
                if (owner[s] == owner[u]) {
                    continue;
                }
                trial[s] = owner[u];
                trial[u] = owner[s];
                double t = total(model, profile, trial, power);
                if (t < bestTotal) {
                    best = trial.clone();
                    bestTotal = t;
                }
                trial[s] = owner[s];
                trial[u] = owner[u];
            }
        }
        return best;
    }

    /**
     * Block 2: the least power per device that keeps its forward + upload within the bottleneck's at max power.
     * Uplink time falls monotonically with power, so bisection finds it; the upper end is kept, which always
     * meets the bound, so the round latency is exactly that at max power.
     */
    static double[] minimalPower(LatencyModel model, CutProfile profile, int[] owner) {
        double[] max = maxPower(model);
        LatencyBreakdown atMax = model.round(profile, owner, max);
        double bound = atMax.uplinkPhase();
        double[] fwd = atMax.clientForward();
        double[] power = max.clone();
        for (int i = 0; i < power.length; i++) {
            if (fwd[i] + atMax.uplink()[i] >= bound) {
                continue; // the bottleneck keeps its max power
            }
            double lo = 0;
            double hi = max[i];
            for (int step = 0; step < BISECTION_STEPS; step++) {
                double mid = (lo + hi) / 2;
                if (fwd[i] + model.uplinkTime(profile, i, owner, mid) <= bound) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            power[i] = hi;
        }
        return power;
    }

    private static double total(LatencyModel model, CutProfile profile, int[] owner, double[] power) {
        return model.round(profile, owner, power).total();
    }

    private static double[] maxPower(LatencyModel model) {
        double[] p = new double[model.devices().size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = model.devices().get(i).maxPowerW();
        }
        return p;
    }

    private static int[] roundRobin(int subchannels, int devices) {
        int[] owner = new int[subchannels];
        for (int s = 0; s < subchannels; s++) {
            owner[s] = s % devices;
        }
        return owner;
    }
}
