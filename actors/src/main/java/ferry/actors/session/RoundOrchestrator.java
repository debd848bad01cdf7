package ferry.actors.session;

import com.typesafe.config.Config;
import ferry.actors.device.Device;
import ferry.actors.edge.EdgeServer;
import ferry.zoo.orchestrate.Assignment;
import ferry.zoo.orchestrate.EdgeSite;
import ferry.zoo.orchestrate.EnergyModel;
import ferry.zoo.orchestrate.FleetDevice;
import ferry.zoo.orchestrate.Policy;
import ferry.zoo.orchestrate.RoundPlan;
import ferry.zoo.orchestrate.RoundPlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Plans one round of an "auto" task from what the devices and edges report now: each device's compute, link,
 * battery left and sample count, each edge's capacity. Battery-aware: a device below the task's threshold, or
 * that cannot pay for the round, sits it out; the others get the edge, cut and mode (local or offloaded) that
 * fits the deadline at the least share of their time and battery (see {@link RoundPlanner}). Pure; the session
 * gathers the states and calls it off its thread, so a round's plan adapts to the batteries the last one left.
 */
public final class RoundOrchestrator {
    /** A deadline of 0 in the task means none; the planner wants a number. */
    static final double NO_DEADLINE = 1e9;

    private RoundOrchestrator() {}

    public static List<DevicePlan> plan(SessionSpec spec, Map<String, Device.State> devices,
                                        Map<String, EdgeServer.State> edges, ToIntFunction<Device.State> samples,
                                        Config config) {
        TaskOptions o = spec.options();
        double deadline = o.deadlineSeconds() > 0 ? o.deadlineSeconds() : NO_DEADLINE;
        RoundPlanner planner = new RoundPlanner(spec.modelSpec(), EnergyModel.DEFAULT, spec.batchSize(),
                spec.localEpochs(), deadline, o.batteryThreshold(), Policy.BATTERY_AWARE);
        List<FleetDevice> fleet = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        for (String id : spec.devices()) {
            Device.State s = devices.get(id);
            if (s == null || !s.registered()) {
                absent.add(id);
                continue;
            }
            fleet.add(new FleetDevice(id, s.profile().flops(), s.profile().linkBitsPerSecond(),
                    Math.min(s.batteryJoules(), s.profile().batteryJoules()),
                    Math.max(s.profile().batteryJoules(), 1e-9), Math.max(1, samples.applyAsInt(s))));
        }
        double edgeFlops = config.getDouble("ferry.plan.edge-flops");
        double edgeLink = config.getDouble("ferry.orchestrate.edge-link-bits-per-second");
        List<EdgeSite> sites = new ArrayList<>();
        for (EdgeServer.State e : edges.values()) {
            // room for this task: the capacity less the devices of others attached there
            int others = (int) e.devices().stream().filter(d -> !spec.devices().contains(d)).count();
            if (e.registered() && e.capacity() - others > 0) {
                sites.add(new EdgeSite(e.edgeId(), edgeFlops, e.capacity() - others, edgeLink));
            }
        }
        if (sites.isEmpty()) {
            throw new IllegalArgumentException("no registered edge with room to plan the round on (known: "
                    + edges.keySet() + ")");
        }
        List<DevicePlan> out = new ArrayList<>();
        if (!fleet.isEmpty()) {
            RoundPlan plan = planner.plan(fleet, sites);
            for (int i = 0; i < fleet.size(); i++) {
                Assignment a = plan.assignments().get(i);
                out.add(new DevicePlan(a.deviceId(), a.participates(), a.edgeId(), a.cut(),
                        a.mode() == null ? null : a.mode().name(), a.predictedSeconds(), a.predictedJoules(),
                        fleet.get(i).batteryJoules(), a.reason()));
            }
        }
        for (String id : absent) {
            out.add(new DevicePlan(id, false, null, -1, null, 0, 0, 0, "not registered"));
        }
        return out;
    }
}
