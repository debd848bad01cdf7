package ferry.bench;

import ferry.actors.node.DatasetRegistry;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.ops.Args;
import ferry.ops.Asks;
import ferry.ops.Chaos;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.plan.PlanDevice;
import ferry.zoo.plan.PlanEdge;
import ferry.zoo.plan.ResourceManager;
import ferry.zoo.plan.ResourcePlan;
import ferry.zoo.train.ParallelServerHalf;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * EPSL against PSL: 8 simulated devices on one edge, VGG-5 on Fashion-MNIST, the same rounds for phi 0 (PSL),
 * 0.5 and 1: round wall time, server back-propagation vectors and downlink bytes per step, test accuracy. All
 * devices share this machine's two cores, so the wall time includes every device's client work; the cut
 * (default 2) leaves most of the model on the edge, where EPSL saves. Also the resource manager's predicted
 * round latency against a fixed-cut equal split on a heterogeneous device set, and vanilla SL (devices one after
 * another) on the same devices.
 */
final class EpslBench {
    static final Set<String> OPTIONS = Set.of("devices", "rounds", "batch", "samples", "cut");

    private EpslBench() {}

    /** Vanilla SL on the same devices: one after another on the edge. */
    static void vanilla(BenchCluster c, List<String> devices, int rounds, int cut, int batch,
                        Map<String, Object> out) throws Exception {
        SessionSpec spec = new SessionSpec("sl", "vgg5", DatasetRegistry.FASHION_MNIST, devices, rounds, cut, batch,
                1, 0.05f, 1, 0, 3600);
        BenchCluster.get(Asks.ack(c.node.services().session("sl"), r -> new TrainingSession.Create(spec, r),
                BenchCluster.T, c.node.system().scheduler()));
        TrainingSession.State s = awaitEnd(c, "sl");
        if (s.status() != TrainingSession.Status.FINISHED) {
            throw new IllegalStateException("sl " + s.status() + ": " + s.failure());
        }
        double mean = s.history().stream().mapToDouble(RoundMetrics::seconds).average().orElse(0);
        double train = s.history().stream().mapToDouble(RoundMetrics::trainSeconds).average().orElse(0);
        double acc = s.history().get(s.history().size() - 1).testAccuracy();
        System.out.printf("vanilla SL: %.2f s of training per round (%.2f s in all), accuracy %.4f%n", train, mean,
                acc);
        out.put("train_seconds_sl", round(train));
        out.put("round_seconds_sl", round(mean));
        out.put("accuracy_sl", acc);
    }

    static Map<String, Object> run(Args a) throws Exception {
        int n = a.integer("devices", 8, 1, 64);
        int rounds = a.integer("rounds", 2, 1, 100);
        int batch = a.integer("batch", 32, 1, 1000);
        int samples = a.integer("samples", 640, 10, 7000);
        int cut = a.integer("cut", 2, 1, 6);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "vgg5");
        out.put("devices", n);
        out.put("cut", cut);
        out.put("batch", batch);
        out.put("rounds", rounds);
        double[] seconds = new double[3];
        double[] withEval = new double[3];
        double[] phis = {0, 0.5, 1};
        String[] keys = {"phi0", "phi05", "phi1"};
        try (BenchCluster c = BenchCluster.start(new DatasetRegistry(), false, Map.of())) {
            List<String> devices = c.devices(n, DatasetRegistry.FASHION_MNIST, samples, "edge-1");
            for (int i = 0; i < phis.length; i++) {
                SessionSpec spec = new SessionSpec(phis[i] == 0 ? "psl" : "epsl", "vgg5",
                        DatasetRegistry.FASHION_MNIST, devices, rounds, cut, batch, 1, 0.05f, 1, 0, 3600,
                        MigrationMode.FEDFLY, List.of(), phis[i]);
                String id = "epsl-" + keys[i];
                BenchCluster.get(Asks.ack(c.node.services().session(id), r -> new TrainingSession.Create(spec, r),
                        BenchCluster.T, c.node.system().scheduler()));
                TrainingSession.State s = awaitEnd(c, id);
                if (s.status() != TrainingSession.Status.FINISHED) {
                    throw new IllegalStateException(id + " " + s.status() + ": " + s.failure());
                }
                double mean = s.history().stream().mapToDouble(RoundMetrics::seconds).average().orElse(0);
                double train = s.history().stream().mapToDouble(RoundMetrics::trainSeconds).average().orElse(0);
                seconds[i] = train;
                withEval[i] = mean;
                RoundMetrics lastRound = s.history().get(s.history().size() - 1);
                double acc = lastRound.testAccuracy();
                int k = ParallelServerHalf.aggregatedPositions(batch, phis[i]);
                long activationFloats = spec.modelSpec().profile(cut).activationBytes() / 4;
                long vectors = k + (long) n * (batch - k);
                long downlink = 4L * activationFloats * (k + (long) n * (batch - k));
                System.out.printf("phi %.1f: %.2f s of training per round (%.2f s with aggregation and evaluation),"
                        + " accuracy %.4f, %d back-prop vectors and %d downlink bytes per step; step measured %.3f s,"
                        + " predicted %.4f s%n", phis[i], train, mean, acc, vectors, downlink,
                        lastRound.measuredStepSeconds(), lastRound.predictedStepSeconds());
                out.put("train_seconds_" + keys[i], round(train));
                out.put("round_seconds_" + keys[i], round(mean));
                out.put("measured_step_s_" + keys[i], round(lastRound.measuredStepSeconds()));
                out.put("predicted_step_s_" + keys[i], lastRound.predictedStepSeconds());
                out.put("accuracy_" + keys[i], acc);
                out.put("backprop_vectors_per_step_" + keys[i], vectors);
                out.put("downlink_bytes_per_step_" + keys[i], downlink);
            }
            vanilla(c, devices, rounds, cut, batch, out);
        }
        // Per-round training wall time (dispatch to the last device's report): what EPSL shortens. The round as
        // a whole also aggregates and evaluates the global model on the 10k test set, the same for every phi.
        out.put("speedup_phi1_vs_psl", round(seconds[0] / seconds[2]));
        out.put("speedup_phi05_vs_psl", round(seconds[0] / seconds[1]));
        out.put("speedup_phi1_vs_psl_with_eval", round(withEval[0] / withEval[2]));
        planned(out);
        return out;
    }

    /** The resource manager on 8 devices, half of them 10x slower with 10x weaker channels, 16 subchannels. */
    static void planned(Map<String, Object> out) {
        ModelSpec spec = ferry.zoo.model.ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
        int sub = 16;
        List<PlanDevice> devices = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            boolean fast = i % 2 == 0;
            double[] g = new double[sub];
            for (int s = 0; s < sub; s++) {
                g[s] = (fast ? 1e-10 : 1e-11) * (0.5 + ((i * 7 + s * 13) % 10) / 10.0);
            }
            devices.add(new PlanDevice("d" + i, fast ? 1e10 : 1e9, 0.2, g));
        }
        PlanEdge edge = new PlanEdge(1e12, 10e6, sub, 3.98e-21, 1.0);
        ResourcePlan best = ResourceManager.plan(spec, devices, edge, 32, 0.5);
        ResourcePlan equal = ResourceManager.equalSplit(spec, devices, edge, 32, 0.5);
        out.put("predicted_round_s_optimised", best.predicted().total());
        out.put("predicted_round_s_equal_split", equal.predicted().total());
        out.put("optimised_cut", best.cut());
    }

    static TrainingSession.State awaitEnd(BenchCluster c, String id) throws Exception {
        return Chaos.awaitEnd(c.node, id);
    }

    static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
