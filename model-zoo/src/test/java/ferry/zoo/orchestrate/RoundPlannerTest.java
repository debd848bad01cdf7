package ferry.zoo.orchestrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The round planner: battery rules, edge capacity and load, deadline, mode choice, determinism, bad input. */
class RoundPlannerTest {
    static final ModelSpec VGG = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
    static final ModelSpec MLP = ModelSpecs.mlp(new int[] {1, 28, 28}, 10);

    static RoundPlanner planner(ModelSpec spec, double deadline, double threshold, Policy policy) {
        return new RoundPlanner(spec, EnergyModel.DEFAULT, 32, 1, deadline, threshold, policy);
    }

    static FleetDevice device(String id, double flops, double link, double battery, double capacity, int samples) {
        return new FleetDevice(id, flops, link, battery, capacity, samples);
    }

    static EdgeSite edge(String id, int capacity) {
        return new EdgeSite(id, 1e12, capacity, 1e9);
    }

    /** How many of the plan's participants offload to {@code edgeId}. */
    static int offloadingOn(RoundPlan plan, String edgeId) {
        int n = 0;
        for (Assignment a : plan.participants()) {
            if (a.edgeId().equals(edgeId) && a.mode() == Mode.OFFLOAD) {
                n++;
            }
        }
        return n;
    }

    @Test
    void theAwarePolicySkipsEmptyLowAndUnaffordableBatteriesAndSaysWhy() {
        List<FleetDevice> fleet = List.of(
                device("full", 5e9, 50e6, 1000, 1000, 200),
                device("empty", 5e9, 50e6, 0, 1000, 200),
                device("low", 5e9, 50e6, 40, 1000, 200),
                device("poor", 5e9, 50e6, 5, 10, 200)); // 50 % of a small battery: less than any round costs
        List<EdgeSite> edges = List.of(edge("edge-1", 8));
        RoundPlan aware = planner(VGG, 60, 0.1, Policy.BATTERY_AWARE).plan(fleet, edges);
        System.out.println(aware);
        assertTrue(aware.of("full").participates(), aware.toString());
        assertEquals("battery empty", aware.of("empty").reason());
        assertEquals("battery 4% below threshold 10%", aware.of("low").reason());
        Assignment poor = aware.of("poor");
        assertFalse(poor.participates());
        assertTrue(poor.reason().matches("predicted [0-9.]+ J > 5 J left \\(cheapest within the deadline: .*\\)"),
                poor.reason());
        assertNull(poor.edgeId());
        assertEquals(-1, poor.cut());
        assertEquals(0, poor.predictedJoules());

        RoundPlan blind = planner(VGG, 60, 0.1, Policy.BATTERY_BLIND).plan(fleet, edges);
        System.out.println(blind);
        assertEquals(4, blind.participants().size(), "the blind policy looks at the deadline only: " + blind);
        assertTrue(blind.of("empty").predictedJoules() > 0);
    }

    @Test
    void aThresholdOfZeroStillNeverPicksAnEmptyBattery() {
        EnergyModel free = new EnergyModel(0, 0); // a round that costs nothing is still not run on a dead device
        RoundPlanner p = new RoundPlanner(MLP, free, 32, 1, 60, 0, Policy.BATTERY_AWARE);
        RoundPlan plan = p.plan(List.of(device("dead", 1e9, 1e7, 0, 10, 50), device("alive", 1e9, 1e7, 1e-9, 10, 50)),
                List.of(edge("e", 4)));
        assertEquals("battery empty", plan.of("dead").reason());
        assertTrue(plan.of("alive").participates());
    }

    @Test
    void edgesNeverTakeMoreThanTheirCapacity() {
        List<FleetDevice> fleet = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fleet.add(device("dev" + i, 5e9, 50e6, 1000, 1000, 100));
        }
        RoundPlan plan = planner(MLP, 60, 0.1, Policy.BATTERY_AWARE).plan(fleet,
                List.of(edge("edge-a", 2), edge("edge-b", 2)));
        assertEquals(2, plan.attachedTo("edge-a"));
        assertEquals(2, plan.attachedTo("edge-b"));
        // Identical devices are admitted in id order: the last one finds no room.
        assertEquals("every edge is full (edge-a 2/2, edge-b 2/2)", plan.of("dev4").reason());
    }

    @Test
    void weakDevicesWithGoodLinksOffloadAndStrongDevicesWithPoorLinksTrainLocally() {
        List<FleetDevice> fleet = List.of(
                device("weak-good", 1e9, 100e6, 1e5, 1e5, 1000),
                device("strong-poor", 1e11, 1e6, 1e5, 1e5, 1000));
        List<EdgeSite> edges = List.of(new EdgeSite("edge", 1e12, 4, 1e9));
        for (Policy policy : Policy.values()) {
            RoundPlan plan = planner(VGG, 1000, 0.1, policy).plan(fleet, edges);
            System.out.println(plan);
            Assignment weak = plan.of("weak-good");
            Assignment strong = plan.of("strong-poor");
            assertEquals(Mode.OFFLOAD, weak.mode(), plan.toString());
            assertTrue(weak.cut() >= 1 && weak.cut() < VGG.units().size());
            assertTrue(weak.reason().startsWith("offload at cut " + weak.cut()) && weak.reason().contains(" vs local "),
                    weak.reason());
            assertEquals(Mode.LOCAL, strong.mode(), plan.toString());
            assertEquals(0, strong.cut());
            assertTrue(strong.reason().startsWith("local via edge: ") && strong.reason().contains(" vs offload at cut"),
                    strong.reason());
        }
    }

    @Test
    void offloadingIsTheOnlyWayAWeakDeviceMeetsATightDeadline() {
        FleetDevice weak = device("weak", 1e9, 100e6, 1e5, 1e5, 500);
        EdgeSite e = new EdgeSite("edge", 1e12, 4, 1e9);
        RoundPlanner probe = planner(VGG, 1000, 0.1, Policy.BATTERY_BLIND);
        double local = probe.seconds(weak, e, 0, 1, 0);
        double best = Double.POSITIVE_INFINITY;
        for (int cut = 1; cut < VGG.units().size(); cut++) {
            best = Math.min(best, probe.seconds(weak, e, cut, 1, 1));
        }
        assertTrue(best < local / 2, "offloading is much faster here: " + best + " vs " + local);
        double deadline = (best + local) / 2;
        for (Policy policy : Policy.values()) {
            RoundPlan plan = planner(VGG, deadline, 0.1, policy).plan(List.of(weak), List.of(e));
            Assignment a = plan.of("weak");
            assertEquals(Mode.OFFLOAD, a.mode());
            assertTrue(a.predictedSeconds() <= deadline);
            assertTrue(a.reason().contains("(over the deadline)"), a.reason());
        }
        RoundPlan none = planner(VGG, best * 0.99, 0.1, Policy.BATTERY_BLIND).plan(List.of(weak), List.of(e));
        String reason = none.of("weak").reason();
        assertFalse(none.of("weak").participates());
        assertTrue(reason.startsWith("predicted ") && reason.contains(" s > deadline ")
                && reason.contains("(fastest: offload at cut "), reason);
    }

    @Test
    void aNewcomerThatWouldPushAMemberPastTheDeadlineIsRefused() {
        RoundPlanner probe = planner(MLP, 1000, 0.1, Policy.BATTERY_BLIND);
        // One edge with a 10 Mbit/s link shared by everyone on it; both devices have 10 Mbit/s radios.
        EdgeSite e = new EdgeSite("edge", 1e12, 10, 10e6);
        FleetDevice slow = device("slow", 1e7, 10e6, 1e5, 1e5, 300);
        FleetDevice fast = device("fast", 1e11, 10e6, 1e5, 1e5, 300);
        double slowAlone = Double.POSITIVE_INFINITY;
        double slowShared = Double.POSITIVE_INFINITY;
        for (int cut = 0; cut < MLP.units().size(); cut++) {
            slowAlone = Math.min(slowAlone, probe.seconds(slow, e, cut, 1, cut > 0 ? 1 : 0));
            slowShared = Math.min(slowShared, probe.seconds(slow, e, cut, 2, cut > 0 ? 2 : 0));
        }
        double deadline = slowAlone * 1.001;
        assertTrue(slowShared > deadline, "sharing the link slows the slow device down: " + slowShared);
        RoundPlan plan = planner(MLP, deadline, 0.1, Policy.BATTERY_BLIND).plan(List.of(fast, slow), List.of(e));
        System.out.println(plan);
        assertTrue(plan.of("slow").participates(), "the slowest device is admitted first");
        Assignment refused = plan.of("fast");
        assertFalse(refused.participates());
        assertTrue(refused.reason().startsWith("joining edge (") && refused.reason().contains("would push slow to "),
                refused.reason());
        assertTrue(probe.seconds(fast, e, 0, 2, 0) <= deadline, "fast would have met the deadline itself");
    }

    @Test
    void theAwarePolicyTradesTimeForEnergyOnASmallBattery() {
        // Expensive radio: offloading is faster for this weak device but costs more energy than training locally.
        EnergyModel radio = new EnergyModel(1e-9, 1e-6);
        FleetDevice rich = device("d", 1e9, 100e6, 1e6, 1e6, 500);
        EdgeSite e = new EdgeSite("edge", 1e12, 4, 1e9);
        RoundPlanner blind = new RoundPlanner(VGG, radio, 32, 1, 1000, 0.1, Policy.BATTERY_BLIND);
        RoundPlanner aware = new RoundPlanner(VGG, radio, 32, 1, 1000, 0.1, Policy.BATTERY_AWARE);
        assertEquals(Mode.OFFLOAD, blind.plan(List.of(rich), List.of(e)).of("d").mode());
        assertEquals(Mode.OFFLOAD, aware.plan(List.of(rich), List.of(e)).of("d").mode(), "a full battery: speed");
        double local = aware.joules(rich, 0);
        for (int cut = 1; cut < VGG.units().size(); cut++) {
            assertTrue(aware.joules(rich, cut) > local, "cut " + cut);
        }
        // 150 % of a local round, half its capacity: above the threshold, but no offloading option is affordable.
        FleetDevice poor = device("d", 1e9, 100e6, local * 1.5, local * 3, 500);
        RoundPlan plan = aware.plan(List.of(poor), List.of(e));
        assertEquals(Mode.LOCAL, plan.of("d").mode(), plan.toString());
        assertEquals(Mode.OFFLOAD, blind.plan(List.of(poor), List.of(e)).of("d").mode());
    }

    @Test
    void equalEdgesGoToTheOneListedFirst() {
        List<FleetDevice> one = List.of(device("d", 5e9, 10e6, 100, 100, 50));
        RoundPlan plan = planner(MLP, 60, 0.1, Policy.BATTERY_AWARE).plan(one, List.of(edge("b", 2), edge("a", 2)));
        assertEquals("b", plan.of("d").edgeId());
    }

    /** A seeded random fleet: compute, links, batteries (some empty, some low), samples, edges. */
    static List<FleetDevice> randomFleet(SplittableRandom rnd, int n) {
        List<FleetDevice> fleet = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double capacity = 1 + rnd.nextDouble() * 300;
            double battery = switch (rnd.nextInt(4)) {
                case 0 -> 0;
                case 1 -> capacity * rnd.nextDouble() * 0.2;
                default -> capacity * rnd.nextDouble();
            };
            fleet.add(device("dev-" + i, Math.pow(10, 8 + 3 * rnd.nextDouble()), Math.pow(10, 5 + 3 * rnd.nextDouble()),
                    battery, capacity, 1 + rnd.nextInt(400)));
        }
        return fleet;
    }

    static List<EdgeSite> randomEdges(SplittableRandom rnd, int m) {
        List<EdgeSite> edges = new ArrayList<>();
        for (int e = 0; e < m; e++) {
            edges.add(new EdgeSite("edge-" + e, Math.pow(10, 10 + 2 * rnd.nextDouble()), 1 + rnd.nextInt(4),
                    Math.pow(10, 6 + 3 * rnd.nextDouble())));
        }
        return edges;
    }

    @Test
    void randomFleetsGiveValidDeterministicPlans() {
        int participants = 0;
        int full = 0;
        int battery = 0;
        int deadline = 0;
        int pushed = 0;
        int offloads = 0;
        int atCapacity = 0;
        for (long seed = 0; seed < 300; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            ModelSpec spec = rnd.nextBoolean() ? VGG : MLP;
            List<FleetDevice> fleet = randomFleet(rnd, 1 + rnd.nextInt(14));
            List<EdgeSite> edges = randomEdges(rnd, 1 + rnd.nextInt(4));
            double limit = Math.pow(10, rnd.nextDouble() * 3);
            double threshold = rnd.nextDouble() * 0.5;
            for (Policy policy : Policy.values()) {
                RoundPlanner p = new RoundPlanner(spec, EnergyModel.DEFAULT, 1 + rnd.nextInt(64), 1 + rnd.nextInt(2),
                        limit, threshold, policy);
                RoundPlan plan = p.plan(fleet, edges);
                String ctx = "seed " + seed + " " + policy + ": " + plan;
                assertEquals(fleet.size(), plan.assignments().size(), ctx);
                for (int i = 0; i < fleet.size(); i++) {
                    FleetDevice d = fleet.get(i);
                    Assignment a = plan.assignments().get(i);
                    assertEquals(d.id(), a.deviceId(), "input order");
                    if (!a.participates()) {
                        if (a.reason().startsWith("battery")) {
                            battery++;
                            assertEquals(Policy.BATTERY_AWARE, policy, "only the aware policy reads batteries");
                        } else if (a.reason().startsWith("joining")) {
                            pushed++;
                        } else if (a.reason().contains("s > deadline")) {
                            deadline++;
                        } else if (a.reason().startsWith("every edge is full")) {
                            for (EdgeSite e : edges) {
                                assertEquals(e.capacity(), plan.attachedTo(e.id()), ctx);
                            }
                        }
                        if (a.reason().startsWith("every edge is full")) {
                            full++;
                        }
                        continue;
                    }
                    participants++;
                    if (policy == Policy.BATTERY_AWARE) {
                        assertFalse(d.empty(), ctx);
                        assertTrue(d.batteryFraction() >= threshold, ctx);
                        assertTrue(a.predictedJoules() <= d.batteryJoules(), ctx);
                    }
                    assertTrue(a.predictedSeconds() <= limit, ctx);
                    EdgeSite e = edges.stream().filter(x -> x.id().equals(a.edgeId())).findFirst().orElseThrow();
                    // The prediction is the model's under the final load of the device's edge.
                    assertEquals(p.seconds(d, e, a.cut(), plan.attachedTo(e.id()), offloadingOn(plan, e.id())),
                            a.predictedSeconds(), 0.0, ctx);
                    assertEquals(p.joules(d, a.cut()), a.predictedJoules(), 0.0, ctx);
                    if (a.mode() == Mode.OFFLOAD) {
                        offloads++;
                    }
                }
                for (EdgeSite e : edges) {
                    assertTrue(plan.attachedTo(e.id()) <= e.capacity(), ctx);
                    if (plan.attachedTo(e.id()) == e.capacity()) {
                        atCapacity++;
                    }
                }
                // Deterministic, and independent of the order the devices come in.
                assertEquals(plan, p.plan(new ArrayList<>(fleet), List.copyOf(edges)), ctx);
                List<FleetDevice> reversed = new ArrayList<>(fleet);
                Collections.reverse(reversed);
                RoundPlan other = p.plan(reversed, edges);
                for (Assignment a : plan.assignments()) {
                    assertEquals(a, other.of(a.deviceId()), ctx);
                }
            }
        }
        System.out.printf("random fleets: %d participants (%d offloading); out for battery %d, deadline %d, load %d,"
                + " full edges %d; %d edges at capacity%n", participants, offloads, battery, deadline, pushed, full,
                atCapacity);
        // The property checks above ran on every kind of decision.
        assertTrue(participants > 100 && offloads > 10 && battery > 10 && deadline > 10 && full > 10
                && atCapacity > 10 && pushed > 0, "the random fleets exercise every rule");
    }

    @Test
    void badInputGetsAClearError() {
        assertMessage(() -> device("d", -1e9, 1e6, 1, 1, 1), "'d'", "FLOP/s", "-1.0E9");
        assertMessage(() -> device("d", 1e9, 0, 1, 1, 1), "'d'", "link rate");
        assertMessage(() -> device("d", 1e9, 1e6, 2, 1, 1), "'d'", "battery", "capacity");
        assertMessage(() -> device("d", 1e9, 1e6, -1, 1, 1), "'d'", "battery");
        assertMessage(() -> device("d", 1e9, 1e6, 1, 1, 0), "'d'", "sample");
        assertMessage(() -> device(" ", 1e9, 1e6, 1, 1, 1), "non-blank id");
        assertMessage(() -> new EdgeSite("e", 1e12, 0, 1e9), "'e'", "capacity");
        assertMessage(() -> new EdgeSite("e", Double.NaN, 1, 1e9), "'e'", "FLOP/s");
        assertMessage(() -> new EnergyModel(-1e-9, 1e-7), "joules per FLOP");

        RoundPlanner p = planner(MLP, 10, 0.1, Policy.BATTERY_AWARE);
        List<FleetDevice> two = List.of(device("a", 1e9, 1e6, 1, 1, 1), device("b", 1e9, 1e6, 1, 1, 1));
        assertMessage(() -> p.plan(two, List.of()), "no edges");
        assertMessage(() -> p.plan(List.of(), List.of(edge("e", 1))), "no devices");
        assertMessage(() -> p.plan(List.of(two.get(0), two.get(0)), List.of(edge("e", 1))), "'a' appears twice");
        assertMessage(() -> p.plan(two, List.of(edge("e", 1), edge("e", 2))), "edge id 'e' appears twice");
        assertMessage(() -> planner(MLP, 0, 0.1, Policy.BATTERY_AWARE), "deadline");
        assertMessage(() -> planner(MLP, Double.NaN, 0.1, Policy.BATTERY_AWARE), "deadline");
        assertMessage(() -> planner(MLP, 10, 1.5, Policy.BATTERY_AWARE), "threshold", "[0, 1]");
        assertMessage(() -> planner(MLP, 10, 0.1, null), "policy");
        assertMessage(() -> new RoundPlanner(MLP, EnergyModel.DEFAULT, 0, 1, 10, 0.1, Policy.BATTERY_BLIND), "batch");
        assertMessage(() -> new RoundPlanner(MLP, EnergyModel.DEFAULT, 32, 0, 10, 0.1, Policy.BATTERY_BLIND), "epochs");
        assertMessage(() -> p.seconds(two.get(0), edge("e", 1), 3, 1, 1), "cut 3");
        assertMessage(() -> p.seconds(two.get(0), edge("e", 1), 1, 1, 0), "offloading");
        assertMessage(() -> p.seconds(two.get(0), edge("e", 1), 0, 0, 0), "attached");
    }

    static void assertMessage(Executable call, String... parts) {
        String msg = assertThrows(IllegalArgumentException.class, call).getMessage();
        for (String part : parts) {
            assertTrue(msg.contains(part), "'" + msg + "' should mention " + part);
        }
    }
}
