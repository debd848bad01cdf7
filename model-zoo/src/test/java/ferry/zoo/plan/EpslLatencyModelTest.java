package ferry.zoo.plan;

import static ferry.zoo.plan.PlanScenarios.VGG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.model.CutProfile;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The latency model's terms against hand calculations. */
class EpslLatencyModelTest {

    @Test
    void shannonRateMatchesAHandCalculation() {
        // W = 1 MHz, p = 0.1 W, g = 1e-10, N0 = 4e-21 W/Hz: SNR = 1e-11 / 4e-15 = 2500,
        // rate = 1e6 * log2(2501) = 11,288,289.34 bit/s.
        assertEquals(11_288_289.34, LatencyModel.shannonRate(1e6, 0.1, 1e-10, 4e-21), 0.01);
        // Same power, 4x the gain: SNR 10000, 1e6 * log2(10001) = 13,287,856.64 bit/s.
        assertEquals(13_287_856.64, LatencyModel.shannonRate(1e6, 0.1, 4e-10, 4e-21), 0.01);

        // A device with 0.2 W on two 1 MHz subchannels splits it evenly: 0.1 W on each, the sum of the above.
        PlanEdge edge = new PlanEdge(1e12, 2e6, 2, 4e-21, 2.0);
        PlanDevice d = new PlanDevice("d", 1e9, 0.2, new double[] {1e-10, 4e-10});
        LatencyModel m = new LatencyModel(List.of(d), edge, 8, 0.5);
        assertEquals(11_288_289.34 + 13_287_856.64, m.uplinkRate(0, new int[] {0, 0}, 0.2), 0.02);
        assertEquals(11_288_289.34, m.uplinkRate(0, new int[] {0, -1}, 0.1), 0.01);
        // The edge puts 2 W / 2 subchannels = 1 W on each: SNR 25000 and 100000.
        double down = 1e6 * (Math.log(25_001) + Math.log(100_001)) / Math.log(2);
        assertEquals(down, m.downlinkRate(0, new int[] {0, 0}), 1e-3);
        assertEquals(0.0, m.uplinkRate(0, new int[] {-1, -1}, 0.2), "no subchannel, no rate");
    }

    @Test
    void roundTermsAreTheFormulaTermByTerm() {
        int n = 2;
        int b = 16;
        double phi = 0.25; // k = 4
        PlanEdge edge = PlanScenarios.edge(4);
        List<PlanDevice> devices = PlanScenarios.heterogeneous(n, 4);
        LatencyModel m = new LatencyModel(devices, edge, b, phi);
        assertEquals(4, m.aggregatedPositions());
        CutProfile p = VGG.profile(4);
        int[] owner = {0, 1, 0, 1};
        double[] power = {0.2, 0.1};
        LatencyBreakdown t = m.round(p, owner, power);
        double bits = 8.0 * p.activationBytes();
        for (int i = 0; i < n; i++) {
            double f = devices.get(i).flops();
            assertEquals(b * p.clientForwardFlops() / f, t.clientForward()[i], 1e-15);
            assertEquals(b * p.clientBackwardFlops() / f, t.clientBackward()[i], 1e-15);
            assertEquals(b * bits / m.uplinkRate(i, owner, power[i]), t.uplink()[i], 1e-12);
            assertEquals((4 * bits + 12 * bits) / m.downlinkRate(i, owner), t.downlink()[i], 1e-12);
        }
        assertEquals(n * b * p.serverForwardFlops() / 1e12, t.serverForward(), 1e-15);
        assertEquals((4 + n * 12) * p.serverBackwardFlops() / 1e12, t.serverBackward(), 1e-15);
        double upPhase = Math.max(t.clientForward()[0] + t.uplink()[0], t.clientForward()[1] + t.uplink()[1]);
        double downPhase = Math.max(t.downlink()[0] + t.clientBackward()[0],
                t.downlink()[1] + t.clientBackward()[1]);
        assertEquals(upPhase + t.serverForward() + t.serverBackward() + downPhase, t.total(), 1e-12);
        assertEquals(1, t.uplinkBottleneck(), "the slow device bounds the upload: " + t);
    }

    @Test
    void fullAggregationCutsServerBackwardByTheNumberOfDevices() {
        int n = 4;
        List<PlanDevice> devices = PlanScenarios.heterogeneous(n, 8);
        PlanEdge edge = PlanScenarios.edge(8);
        int[] owner = {0, 1, 2, 3, 0, 1, 2, 3};
        double[] power = {0.2, 0.2, 0.2, 0.2};
        CutProfile p = VGG.profile(4);
        LatencyBreakdown psl = new LatencyModel(devices, edge, 16, 0).round(p, owner, power);
        LatencyBreakdown epsl = new LatencyModel(devices, edge, 16, 1).round(p, owner, power);
        System.out.printf("server backward, N=%d b=16: φ=0 %.4g s, φ=1 %.4g s%n", n, psl.serverBackward(),
                epsl.serverBackward());
        assertTrue(epsl.serverBackward() < psl.serverBackward());
        assertEquals(psl.serverBackward() / n, epsl.serverBackward(), 1e-15);
        // Everything else is the same (a device downloads b vectors either way; see PlanEdge).
        assertEquals(psl.serverForward(), epsl.serverForward());
        assertArrayEquals(psl.downlink(), epsl.downlink());
        assertArrayEquals(psl.uplink(), epsl.uplink());
        assertTrue(epsl.total() < psl.total());
    }

    @Test
    void badInputIsNamed() {
        PlanEdge edge = PlanScenarios.edge(4);
        List<PlanDevice> devices = PlanScenarios.homogeneous(2, 4);
        LatencyModel m = new LatencyModel(devices, edge, 8, 0.5);
        CutProfile p = VGG.profile(4);
        String msg = assertThrows(IllegalArgumentException.class,
                () -> m.round(p, new int[] {0, 1, 0, 1}, new double[] {0.3, 0.1})).getMessage();
        assertTrue(msg.contains("dev0") && msg.contains("0.3"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> m.round(p, new int[] {0, 1, 0, 1}, new double[] {-0.1, 0.1})).getMessage();
        assertTrue(msg.contains("-0.1"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> m.round(p, new int[] {0, 2, 0, 1}, new double[] {0.1, 0.1})).getMessage();
        assertTrue(msg.contains("subchannel 1") && msg.contains("device 2"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> m.round(p, new int[] {0, 1}, new double[] {0.1, 0.1})).getMessage();
        assertTrue(msg.contains("one owner per subchannel (4)"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> new LatencyModel(devices, edge, 0, 0.5))
                .getMessage();
        assertTrue(msg.contains("batch"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> new PlanEdge(1e12, 1e7, 0, 4e-21, 1))
                .getMessage();
        assertTrue(msg.contains("subchannel"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> new PlanEdge(1e12, -1e7, 4, 4e-21, 1))
                .getMessage();
        assertTrue(msg.contains("bandwidth"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> new PlanDevice("x", 1e9, 0.2, new double[] {1e-10, 0})).getMessage();
        assertTrue(msg.contains("'x'") && msg.contains("subchannel 1"), msg);
    }
}
