package ferry.zoo.orchestrate;

import ferry.zoo.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Plans one round of edge learning over a fleet: per device, whether it takes part, the edge it attaches to, and
 * where its model is cut — cut 0 trains the whole model on the device (FedAvg local training), cut c ≥ 1 keeps
 * units [0, c) on the device and offloads the rest to the edge (split learning). Pure arithmetic on the model's
 * per-sample profile ({@link RoundCosts}), so the same input gives the same plan, bit for bit.
 *
 * <p>Predictions for device d at cut c on edge e, with {@code attached} devices on e and {@code offloading} of
 * them split:
 * <pre>
 *   rate    = min(d.link, e.link / attached)
 *   seconds = deviceFlops(c) / d.flops + deviceBits(c) / rate + edgeFlops(c) / (e.flops / offloading)
 *   joules  = energy.joules(deviceFlops(c), deviceBits(c))
 * </pre>
 * (the split step is synchronous, so compute and transfer add up; the edge's compute term is 0 at cut 0).
 *
 * <p>Who may take part: {@link Policy#BATTERY_AWARE} skips a device whose battery is empty or below the threshold
 * fraction, and options whose predicted energy exceeds what is left; both policies drop options that miss the
 * deadline. Capacity and load: devices are admitted one at a time, the ones slowest at training alone first
 * (they need an edge most; ties by id); each takes its best option on an edge with room, and an option is allowed
 * only if everyone already on that edge still meets the deadline with the newcomer there (loads only grow, so
 * every participant of the final plan meets the deadline under the final loads, which its prediction uses).
 *
 * <p>Best option: BATTERY_BLIND takes the fastest; BATTERY_AWARE the lowest {@code seconds / deadline +
 * joules / battery left}, the share of the round's time and of the battery it uses — a full device behaves
 * like the blind planner, a nearly empty one picks the cheapest option that fits. Ties: fewer joules, then the
 * lower cut (local first), then the edge listed first.
 */
public final class RoundPlanner {
    private final RoundCosts costs;
    private final EnergyModel energy;
    private final double deadlineSeconds;
    private final double batteryThreshold;
    private final Policy policy;

    /**
     * @param batteryThreshold the fraction of its capacity a device needs to take part under BATTERY_AWARE, 0..1
     */
    public RoundPlanner(ModelSpec spec, EnergyModel energy, int batch, int localEpochs, double deadlineSeconds,
                        double batteryThreshold, Policy policy) {
        this.costs = new RoundCosts(spec, batch, localEpochs);
        if (energy == null) {
            throw new IllegalArgumentException("no energy model");
        }
        if (!(deadlineSeconds > 0) || !Double.isFinite(deadlineSeconds)) {
            throw new IllegalArgumentException("the deadline must be positive and finite, got " + deadlineSeconds
                    + " s");
        }
        if (!(batteryThreshold >= 0 && batteryThreshold <= 1)) {
            throw new IllegalArgumentException("the battery threshold is a fraction of the capacity in [0, 1], got "
                    + batteryThreshold);
        }
        if (policy == null) {
            throw new IllegalArgumentException("no battery policy");
        }
        this.energy = energy;
        this.deadlineSeconds = deadlineSeconds;
        this.batteryThreshold = batteryThreshold;
        this.policy = policy;
    }

    public RoundCosts costs() {
        return costs;
    }

    public EnergyModel energy() {
        return energy;
    }

    public double deadlineSeconds() {
        return deadlineSeconds;
    }

    public double batteryThreshold() {
        return batteryThreshold;
    }

    public Policy policy() {
        return policy;
    }

    /** One option for one device: an edge, a cut, and what they are predicted to cost. */
    private record Option(int edge, int cut, double seconds, double joules, double score) {}

    /** A member of an edge that a newcomer would push past the deadline. */
    private record Blocker(int edge, int member, double seconds) {}

    /** Plans a round; the assignments come in the order of {@code devices}. */
    public RoundPlan plan(List<FleetDevice> devices, List<EdgeSite> edges) {
        check(devices, edges);
        int n = devices.size();
        int m = edges.size();
        int[] edgeOf = new int[n];
        int[] cutOf = new int[n];
        Arrays.fill(edgeOf, -1);
        Arrays.fill(cutOf, -1);
        String[] excluded = new String[n];
        int[] attached = new int[m];
        int[] offloading = new int[m];
        List<List<Integer>> members = new ArrayList<>();
        for (int e = 0; e < m; e++) {
            members.add(new ArrayList<>());
        }
        for (int i : admissionOrder(devices)) {
            FleetDevice d = devices.get(i);
            if (policy == Policy.BATTERY_AWARE) {
                if (d.empty()) {
                    excluded[i] = "battery empty";
                    continue;
                }
                if (d.batteryFraction() < batteryThreshold) {
                    excluded[i] = "battery " + pct(d.batteryFraction()) + " below threshold " + pct(batteryThreshold);
                    continue;
                }
            }
            Option best = null;
            Option fastest = null;
            Option cheapestOnTime = null;
            Option blocked = null;
            Blocker blocker = null;
            for (int e = 0; e < m; e++) {
                if (attached[e] >= edges.get(e).capacity()) {
                    continue;
                }
                for (int cut = 0; cut < costs.cuts(); cut++) {
                    int off = offloading[e] + (cut > 0 ? 1 : 0);
                    Option o = option(d, edges.get(e), e, cut, attached[e] + 1, off);
                    if (fastest == null || o.seconds() < fastest.seconds()) {
                        fastest = o;
                    }
                    if (o.seconds() > deadlineSeconds) {
                        continue;
                    }
                    if (cheapestOnTime == null || o.joules() < cheapestOnTime.joules()) {
                        cheapestOnTime = o;
                    }
                    if (policy == Policy.BATTERY_AWARE && o.joules() > d.batteryJoules()) {
                        continue;
                    }
                    Blocker b = blocker(devices, edges.get(e), e, members.get(e), cutOf, attached[e] + 1, off);
                    if (b != null) {
                        if (blocked == null || ranksBefore(o, blocked)) {
                            blocked = o;
                            blocker = b;
                        }
                        continue;
                    }
                    if (best == null || ranksBefore(o, best)) {
                        best = o;
                    }
                }
            }
            if (best == null) {
                excluded[i] = whyNot(d, devices, edges, attached, fastest, cheapestOnTime, blocked, blocker);
                continue;
            }
            edgeOf[i] = best.edge();
            cutOf[i] = best.cut();
            attached[best.edge()]++;
            if (best.cut() > 0) {
                offloading[best.edge()]++;
            }
            members.get(best.edge()).add(i);
        }
        List<Assignment> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            FleetDevice d = devices.get(i);
            if (edgeOf[i] < 0) {
                out.add(Assignment.excluded(d.id(), excluded[i]));
                continue;
            }
            int e = edgeOf[i];
            EdgeSite edge = edges.get(e);
            Option chosen = option(d, edge, e, cutOf[i], attached[e], offloading[e]);
            out.add(new Assignment(d.id(), true, edge.id(), chosen.cut(), chosen.cut() == 0 ? Mode.LOCAL : Mode.OFFLOAD,
                    chosen.seconds(), chosen.joules(), why(d, edge, chosen, attached[e], offloading[e])));
        }
        return new RoundPlan(policy, out);
    }

    /** Predicted seconds of {@code d} at {@code cut} on {@code e} with that many devices attached and offloading. */
    public double seconds(FleetDevice d, EdgeSite e, int cut, int attached, int offloading) {
        if (attached < 1 || offloading < (cut > 0 ? 1 : 0) || offloading > attached) {
            throw new IllegalArgumentException("edge '" + e.id() + "': " + attached + " attached and " + offloading
                    + " offloading devices do not include a device at cut " + cut);
        }
        double rate = Math.min(d.linkBitsPerSecond(), e.linkBitsPerSecond() / attached);
        double t = costs.deviceFlops(d.samples(), cut) / d.flops() + costs.deviceBits(d.samples(), cut) / rate;
        if (cut > 0) {
            t += costs.edgeFlops(d.samples(), cut) * offloading / e.flops();
        }
        return t;
    }

    /** Predicted energy the round takes from {@code d}'s battery at {@code cut}. */
    public double joules(FleetDevice d, int cut) {
        return energy.joules(costs.deviceFlops(d.samples(), cut), costs.deviceBits(d.samples(), cut));
    }

    private Option option(FleetDevice d, EdgeSite edge, int e, int cut, int attached, int offloading) {
        double s = seconds(d, edge, cut, attached, offloading);
        double j = joules(d, cut);
        double score = policy == Policy.BATTERY_AWARE ? s / deadlineSeconds + j / d.batteryJoules() : s;
        return new Option(e, cut, s, j, score);
    }

    private static boolean ranksBefore(Option a, Option b) {
        if (a.score() != b.score()) {
            return a.score() < b.score();
        }
        if (a.joules() != b.joules()) {
            return a.joules() < b.joules();
        }
        if (a.cut() != b.cut()) {
            return a.cut() < b.cut();
        }
        return a.edge() < b.edge();
    }

    /** The first member of the edge that would miss the deadline with the new loads; null if none. */
    private Blocker blocker(List<FleetDevice> devices, EdgeSite edge, int e, List<Integer> members, int[] cutOf,
                            int attached, int offloading) {
        for (int j : members) {
            double s = seconds(devices.get(j), edge, cutOf[j], attached, offloading);
            if (s > deadlineSeconds) {
                return new Blocker(e, j, s);
            }
        }
        return null;
    }

    /** Slowest at training the whole model alone first; ties by id. */
    private List<Integer> admissionOrder(List<FleetDevice> devices) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(
                        i -> -costs.deviceFlops(devices.get(i).samples(), 0) / devices.get(i).flops())
                .thenComparing(i -> devices.get(i).id()));
        return order;
    }

    private String whyNot(FleetDevice d, List<FleetDevice> devices, List<EdgeSite> edges, int[] attached,
                          Option fastest, Option cheapestOnTime, Option blocked, Blocker blocker) {
        if (fastest == null) {
            List<String> full = new ArrayList<>();
            for (int e = 0; e < edges.size(); e++) {
                full.add(edges.get(e).id() + " " + attached[e] + "/" + edges.get(e).capacity());
            }
            return "every edge is full (" + String.join(", ", full) + ")";
        }
        if (fastest.seconds() > deadlineSeconds) {
            return "predicted " + num(fastest.seconds()) + " s > deadline " + num(deadlineSeconds) + " s (fastest: "
                    + describe(fastest, edges) + ")";
        }
        if (blocked == null) {
            return "predicted " + num(cheapestOnTime.joules()) + " J > " + num(d.batteryJoules()) + " J left (cheapest"
                    + " within the deadline: " + describe(cheapestOnTime, edges) + ")";
        }
        return "joining " + edges.get(blocker.edge()).id() + " (" + describe(blocked, edges) + ") would push "
                + devices.get(blocker.member()).id() + " to " + num(blocker.seconds()) + " s > deadline "
                + num(deadlineSeconds) + " s";
    }

    /** The chosen option against the best of the other mode on the same edge, both under the final loads. */
    private String why(FleetDevice d, EdgeSite edge, Option chosen, int attached, int offloading) {
        int others = offloading - (chosen.cut() > 0 ? 1 : 0);
        Option alt = null;
        for (int cut = 0; cut < costs.cuts(); cut++) {
            if ((cut == 0) == (chosen.cut() == 0)) {
                continue;
            }
            Option o = option(d, edge, chosen.edge(), cut, attached, others + (cut > 0 ? 1 : 0));
            if (alt == null || ranksBefore(o, alt)) {
                alt = o;
            }
        }
        StringBuilder s = new StringBuilder(label(chosen.cut())).append(" via ").append(edge.id()).append(": ")
                .append(num(chosen.seconds())).append(" s, ").append(num(chosen.joules())).append(" J");
        if (alt != null) {
            s.append(" vs ").append(label(alt.cut())).append(' ').append(num(alt.seconds())).append(" s, ")
                    .append(num(alt.joules())).append(" J");
            if (alt.seconds() > deadlineSeconds) {
                s.append(" (over the deadline)");
            } else if (policy == Policy.BATTERY_AWARE && alt.joules() > d.batteryJoules()) {
                s.append(" (more than the battery has)");
            }
        }
        if (policy == Policy.BATTERY_AWARE) {
            s.append("; battery ").append(pct(d.batteryFraction()));
        }
        return s.toString();
    }

    private String describe(Option o, List<EdgeSite> edges) {
        return label(o.cut()) + " via " + edges.get(o.edge()).id();
    }

    private String label(int cut) {
        return cut == 0 ? "local" : "offload at cut " + cut + " (after "
                + costs.spec().units().get(cut - 1).name() + ")";
    }

    private static void check(List<FleetDevice> devices, List<EdgeSite> edges) {
        if (devices == null || devices.isEmpty()) {
            throw new IllegalArgumentException("no devices to plan for");
        }
        if (edges == null || edges.isEmpty()) {
            throw new IllegalArgumentException("no edges: every participant attaches to an edge, and none was given");
        }
        Set<String> ids = new HashSet<>();
        for (FleetDevice d : devices) {
            if (d == null) {
                throw new IllegalArgumentException("the device list holds a null device");
            }
            if (!ids.add(d.id())) {
                throw new IllegalArgumentException("device id '" + d.id() + "' appears twice");
            }
        }
        ids.clear();
        for (EdgeSite e : edges) {
            if (e == null) {
                throw new IllegalArgumentException("the edge list holds a null edge");
            }
            if (!ids.add(e.id())) {
                throw new IllegalArgumentException("edge id '" + e.id() + "' appears twice");
            }
        }
    }

    /** A fraction as a percentage: "4%", "9.6%". */
    static String pct(double fraction) {
        return strip(String.format(Locale.ROOT, "%.1f", fraction * 100)) + "%";
    }

    /** Three significant digits, no trailing zeros: "12.3", "2.1", "0.0417", "1234". */
    static String num(double x) {
        if (Math.abs(x) >= 100) {
            return String.format(Locale.ROOT, "%.0f", x);
        }
        return strip(String.format(Locale.ROOT, "%.3g", x));
    }

    private static String strip(String s) {
        if (s.contains(".") && !s.contains("e")) {
            s = s.replaceAll("0+$", "");
            if (s.endsWith(".")) {
                s = s.substring(0, s.length() - 1);
            }
        }
        return s;
    }
}
