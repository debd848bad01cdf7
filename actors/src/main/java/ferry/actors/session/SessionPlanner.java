package ferry.actors.session;

import com.typesafe.config.Config;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.plan.PlanDevice;
import ferry.zoo.plan.PlanEdge;
import ferry.zoo.plan.ResourceManager;
import ferry.zoo.plan.ResourcePlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Lays out a parallel session with the EPSL resource manager: devices are grouped by the edge they are attached
 * to (each edge has its own band), every edge is planned at every cut, and the session takes the cut whose
 * slowest edge is fastest, since one global model is split at one cut. FIXED plans at the spec's cut with an
 * equal split instead. Pure: the actor gathers the devices' states and calls this off its thread.
 */
public final class SessionPlanner {
    private SessionPlanner() {}

    /** The edge's radio and compute, from {@code ferry.plan}. */
    public static PlanEdge edgeFromConfig(Config c) {
        Config p = c.getConfig("ferry.plan");
        return new PlanEdge(p.getDouble("edge-flops"), p.getDouble("bandwidth-hz"), p.getInt("subchannels"),
                p.getDouble("noise-psd-w-per-hz"), p.getDouble("edge-power-w"));
    }

    /**
     * A device's gain on each subchannel: its mean gain with Rayleigh fading (exponentially distributed power
     * gain, mean 1), drawn from a seed made of the device id so a device always sees the same channel.
     */
    static PlanDevice planDevice(String id, DeviceProfile p, int subchannels) {
        double mean = Math.pow(10, p.channelGainDb() / 10);
        SplittableRandom rnd = new SplittableRandom(id.hashCode());
        double[] gain = new double[subchannels];
        for (int s = 0; s < subchannels; s++) {
            gain[s] = mean * Math.max(1e-3, -Math.log(1 - rnd.nextDouble()));
        }
        return new PlanDevice(id, p.flops(), p.txPowerW(), gain);
    }

    public static SessionPlan plan(SessionSpec spec, Map<String, Device.State> devices, PlanEdge edge) {
        Map<String, List<PlanDevice>> byEdge = new TreeMap<>();
        for (String id : spec.devices()) {
            Device.State s = devices.get(id);
            if (s == null || !s.registered()) {
                throw new IllegalArgumentException("device '" + id + "' is not registered, so it cannot be planned");
            }
            if (s.edgeId() == null) {
                throw new IllegalArgumentException("device '" + id + "' is attached to no edge");
            }
            byEdge.computeIfAbsent(s.edgeId(), e -> new ArrayList<>())
                    .add(planDevice(id, s.profile(), edge.subchannels()));
        }
        ModelSpec model = spec.modelSpec();
        Map<String, ResourcePlan> equal = atCut(model, spec.cut(), byEdge, edge, spec, false);
        double equalStep = slowest(equal);
        if (spec.planning() == Planning.FIXED) {
            return result(Planning.FIXED, spec.cut(), equal, equalStep, byEdge,
                    "fixed: cut " + spec.cut() + " from the spec, subchannels split equally, full power");
        }
        int bestCut = -1;
        Map<String, ResourcePlan> best = null;
        for (int cut = 1; cut < model.units().size(); cut++) {
            Map<String, ResourcePlan> plans = atCut(model, cut, byEdge, edge, spec, true);
            if (best == null || slowest(plans) < slowest(best)) {
                best = plans;
                bestCut = cut;
            }
        }
        return result(Planning.OPTIMISED, bestCut, best, equalStep, byEdge, String.format(
                "optimised: cut %d predicts %.4f s per step against %.4f s at cut %d with an equal split",
                bestCut, slowest(best), equalStep, spec.cut()));
    }

    private static Map<String, ResourcePlan> atCut(ModelSpec model, int cut, Map<String, List<PlanDevice>> byEdge,
                                                   PlanEdge edge, SessionSpec spec, boolean optimise) {
        Map<String, ResourcePlan> out = new TreeMap<>();
        for (Map.Entry<String, List<PlanDevice>> e : byEdge.entrySet()) {
            out.put(e.getKey(), optimise
                    ? ResourceManager.planAtCut(model, cut, e.getValue(), edge, spec.batchSize(), spec.phi())
                    : ResourceManager.equalSplit(model, cut, e.getValue(), edge, spec.batchSize(), spec.phi()));
        }
        return out;
    }

    private static double slowest(Map<String, ResourcePlan> plans) {
        return plans.values().stream().mapToDouble(p -> p.predicted().total()).max().orElse(0);
    }

    private static SessionPlan result(Planning mode, int cut, Map<String, ResourcePlan> plans, double equalStep,
                                      Map<String, List<PlanDevice>> byEdge, String reason) {
        List<SessionPlan.EdgePlan> edges = new ArrayList<>();
        for (Map.Entry<String, ResourcePlan> e : plans.entrySet()) {
            List<PlanDevice> ds = byEdge.get(e.getKey());
            ResourcePlan p = e.getValue();
            List<Integer> sub = new ArrayList<>();
            List<Double> power = new ArrayList<>();
            for (int i = 0; i < ds.size(); i++) {
                sub.add(p.subchannelsOf(i));
                power.add(p.power()[i]);
            }
            edges.add(new SessionPlan.EdgePlan(e.getKey(), ds.stream().map(PlanDevice::id).toList(), sub, power,
                    p.predicted().total()));
        }
        return new SessionPlan(mode, cut, slowest(plans), equalStep, edges, reason);
    }
}
