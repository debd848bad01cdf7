package ferry.zoo.plan;

import static ferry.zoo.plan.PlanScenarios.VGG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The EPSL resource manager: valid plans, better than the equal split when devices differ, deterministic. */
class EpslResourceManagerTest {

    /** Every subchannel has exactly one owner, every device at least one, every power within its limit. */
    static void assertValid(ResourcePlan plan, List<PlanDevice> devices, PlanEdge edge, int batch, double phi,
                            ModelSpec spec) {
        int[] owner = plan.subchannelOwner();
        assertEquals(edge.subchannels(), owner.length, "one owner per subchannel");
        for (int s = 0; s < owner.length; s++) {
            assertTrue(owner[s] >= 0 && owner[s] < devices.size(), "subchannel " + s + " owner " + owner[s]);
        }
        double[] power = plan.power();
        assertEquals(devices.size(), power.length);
        for (int i = 0; i < devices.size(); i++) {
            assertTrue(plan.subchannelsOf(i) >= 1, "device " + i + " has no subchannel: " + plan);
            assertTrue(power[i] > 0 && power[i] <= devices.get(i).maxPowerW(), "device " + i + " power " + power[i]);
        }
        LatencyModel model = new LatencyModel(devices, edge, batch, phi);
        assertEquals(model.round(spec.profile(plan.cut()), owner, power), plan.predicted(),
                "the prediction is the model's for the plan");
        // The power step lowers energy without raising the latency.
        double[] max = devices.stream().mapToDouble(PlanDevice::maxPowerW).toArray();
        ResourcePlan atMax = new ResourcePlan(plan.cut(), owner, max, model.round(spec.profile(plan.cut()), owner,
                max), 0);
        assertEquals(atMax.predicted().total(), plan.predicted().total(), 0.0, "power step kept T");
        assertTrue(plan.uplinkEnergyJoules() <= atMax.uplinkEnergyJoules(), "power step did not raise energy");
    }

    @Test
    void optimisedPlanBeatsTheEqualSplitOnHeterogeneousDevices() {
        int n = 4;
        int m = 12;
        int b = 16;
        double phi = 0.5;
        List<PlanDevice> devices = PlanScenarios.heterogeneous(n, m);
        PlanEdge edge = PlanScenarios.edge(m);
        ResourcePlan equal = ResourceManager.equalSplit(VGG, devices, edge, b, phi);
        ResourcePlan sameCut = ResourceManager.planAtCut(VGG, VGG.defaultCut(), devices, edge, b, phi);
        ResourcePlan best = ResourceManager.plan(VGG, devices, edge, b, phi);
        ResourcePlan maxPowerBest = new ResourcePlan(best.cut(), best.subchannelOwner(),
                devices.stream().mapToDouble(PlanDevice::maxPowerW).toArray(), best.predicted(), 0);
        System.out.printf("heterogeneous N=%d, %d subchannels, b=%d, φ=%.1f:%n  equal split (cut %d): T = %.4f s%n"
                        + "  optimised at cut %d: T = %.4f s, subchannels %s%n"
                        + "  optimised over cuts: cut %d, T = %.4f s, subchannels %s, power %s W,"
                        + " uplink energy %.4g J (%.4g J at max power), %d iterations%n",
                n, m, b, phi, equal.cut(), equal.predicted().total(), sameCut.cut(), sameCut.predicted().total(),
                counts(sameCut, n), best.cut(), best.predicted().total(), counts(best, n),
                Arrays.toString(Arrays.stream(best.power()).map(p -> Math.round(p * 1e4) / 1e4).toArray()),
                best.uplinkEnergyJoules(), maxPowerBest.uplinkEnergyJoules(), best.iterations());
        assertEquals(VGG.defaultCut(), equal.cut());
        assertTrue(sameCut.predicted().total() < equal.predicted().total(), "allocation alone helps");
        assertTrue(best.predicted().total() < equal.predicted().total(), "optimised " + best + " vs " + equal);
        assertTrue(best.predicted().total() <= sameCut.predicted().total());
        assertTrue(best.uplinkEnergyJoules() < maxPowerBest.uplinkEnergyJoules(), "fast devices turned power down");
        // The slow devices (odd indices) get more of the band.
        assertTrue(sameCut.subchannelsOf(1) > sameCut.subchannelsOf(0), "" + counts(sameCut, n));
        assertValid(best, devices, edge, b, phi, VGG);
        assertValid(sameCut, devices, edge, b, phi, VGG);
    }

    static String counts(ResourcePlan p, int n) {
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            c[i] = p.subchannelsOf(i);
        }
        return Arrays.toString(c);
    }

    @Test
    void plansAreValidAcrossModelsSizesAndPhi() {
        ModelSpec mlp = ModelSpecs.mlp(new int[] {1, 28, 28}, 10);
        ModelSpec resnet = ModelSpecs.resnet8(new int[] {3, 32, 32}, 10);
        for (ModelSpec spec : List.of(VGG, mlp, resnet)) {
            for (double phi : new double[] {0, 0.5, 1}) {
                for (int[] nm : new int[][] {{1, 1}, {3, 3}, {3, 8}, {5, 16}}) {
                    PlanEdge edge = PlanScenarios.edge(nm[1]);
                    for (List<PlanDevice> devices : List.of(PlanScenarios.heterogeneous(nm[0], nm[1]),
                            PlanScenarios.homogeneous(nm[0], nm[1]))) {
                        ResourcePlan p = ResourceManager.plan(spec, devices, edge, 8, phi);
                        assertValid(p, devices, edge, 8, phi, spec);
                        ResourcePlan equal = ResourceManager.equalSplit(spec, p.cut(), devices, edge, 8, phi);
                        assertTrue(p.predicted().total() <= equal.predicted().total(),
                                "never worse than the equal split at its own cut: " + p + " vs " + equal);
                    }
                }
            }
        }
    }

    @Test
    void fullAggregationLowersThePredictedServerBackward() {
        List<PlanDevice> devices = PlanScenarios.heterogeneous(4, 8);
        PlanEdge edge = PlanScenarios.edge(8);
        ResourcePlan psl = ResourceManager.equalSplit(VGG, devices, edge, 16, 0);
        ResourcePlan epsl = ResourceManager.equalSplit(VGG, devices, edge, 16, 1);
        assertTrue(epsl.predicted().serverBackward() < psl.predicted().serverBackward());
        ResourcePlan pslBest = ResourceManager.planAtCut(VGG, 4, devices, edge, 16, 0);
        ResourcePlan epslBest = ResourceManager.planAtCut(VGG, 4, devices, edge, 16, 1);
        System.out.printf("server backward at cut 4: φ=0 %.4g s, φ=1 %.4g s; optimised T %.4f s vs %.4f s%n",
                pslBest.predicted().serverBackward(), epslBest.predicted().serverBackward(),
                pslBest.predicted().total(), epslBest.predicted().total());
        assertTrue(epslBest.predicted().serverBackward() < pslBest.predicted().serverBackward());
        assertTrue(epslBest.predicted().total() < pslBest.predicted().total());
    }

    @Test
    void theSameInputGivesTheSamePlan() {
        List<PlanDevice> devices = PlanScenarios.heterogeneous(5, 16);
        PlanEdge edge = PlanScenarios.edge(16);
        ResourcePlan a = ResourceManager.plan(VGG, devices, edge, 16, 0.5);
        ResourcePlan b = ResourceManager.plan(VGG, new ArrayList<>(PlanScenarios.heterogeneous(5, 16)), edge, 16, 0.5);
        assertEquals(a, b);
        assertTrue(Arrays.equals(a.power(), b.power()) && Arrays.equals(a.subchannelOwner(), b.subchannelOwner()));
    }

    @Test
    void badInputGetsAClearError() {
        PlanEdge edge = PlanScenarios.edge(4);
        String msg = assertThrows(IllegalArgumentException.class,
                () -> ResourceManager.plan(VGG, List.of(), edge, 16, 0.5)).getMessage();
        assertTrue(msg.contains("no devices"), msg);

        List<PlanDevice> five = PlanScenarios.homogeneous(5, 4);
        msg = assertThrows(IllegalArgumentException.class, () -> ResourceManager.plan(VGG, five, edge, 16, 0.5))
                .getMessage();
        assertTrue(msg.contains("5 devices need at least 5 subchannels") && msg.contains("has 4"), msg);
        assertThrows(IllegalArgumentException.class, () -> ResourceManager.equalSplit(VGG, five, edge, 16, 0.5));

        msg = assertThrows(IllegalArgumentException.class,
                () -> new PlanDevice("weak", 1e9, -0.2, PlanScenarios.gains(1e-10, 0, 4))).getMessage();
        assertTrue(msg.contains("'weak'") && msg.contains("max power") && msg.contains("-0.2"), msg);

        List<PlanDevice> two = PlanScenarios.homogeneous(2, 4);
        for (double phi : new double[] {-0.5, 1.01, Double.NaN}) {
            msg = assertThrows(IllegalArgumentException.class, () -> ResourceManager.plan(VGG, two, edge, 16, phi))
                    .getMessage();
            assertTrue(msg.contains("phi") && msg.contains("[0, 1]"), msg);
        }
        msg = assertThrows(IllegalArgumentException.class,
                () -> ResourceManager.plan(VGG, PlanScenarios.homogeneous(2, 3), edge, 16, 0.5)).getMessage();
        assertTrue(msg.contains("dev0") && msg.contains("3 channel gains") && msg.contains("(4)"), msg);
        List<PlanDevice> twins = List.of(two.get(0), two.get(0));
        msg = assertThrows(IllegalArgumentException.class, () -> ResourceManager.plan(VGG, twins, edge, 16, 0.5))
                .getMessage();
        assertTrue(msg.contains("'dev0' appears twice"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> ResourceManager.planAtCut(VGG, 7, two, edge, 16, 0.5)).getMessage();
        assertTrue(msg.contains("cut 7"), msg);
    }
}
