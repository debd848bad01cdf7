package ferry.bench;

import ferry.actors.node.DatasetRegistry;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MobilityEvent;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.SessionSpec;
import ferry.ops.Args;
import ferry.persistence.ModelRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * FedFly migration overhead: (move triggered -> first batch trained on the new edge) minus one normal batch
 * (forward, edge, backward; the median of the round's), median over many moves. Moves are triggered between
 * batches, so exactly one batch is trained in that window; the batch-in-hand case (the old edge finishes it and
 * the new one delivers its gradient) is covered by the tests, of one device back and forth between two edges, in one JVM (H2) and across two JVMs
 * (PostgreSQL), for VGG-5 at 28x28x1 (Fashion-MNIST) and 32x32x3 (Fashion-MNIST padded to 32x32 and
 * replicated to three channels, as CIFAR-10 is not on this machine; the state that moves is VGG-5's at
 * 32x32x3 all the same).
 */
final class MigrationBench {
    static final Set<String> OPTIONS = Set.of("moves", "batch", "gap", "jvms", "durable-handover");

    private MigrationBench() {}

    record Shape(String key, String dataset) {}

    static Map<String, Object> run(Args a) throws Exception {
        int moves = a.integer("moves", 10, 2, 1000);
        int batch = a.integer("batch", 100, 1, 1000);
        int gap = a.integer("gap", 3, 1, 100);
        List<String> jvms = Arrays.asList(a.str("jvms", "1,2").split(","));
        String durable = a.str("durable-handover", "on");
        DatasetRegistry datasets = new DatasetRegistry();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "vgg5");
        out.put("batch", batch);
        out.put("moves", moves);
        out.put("durable_handover", durable);
        for (Shape shape : List.of(new Shape("", DatasetRegistry.FASHION_MNIST),
                new Shape("_32x32x3", DatasetRegistry.FASHION_MNIST_RGB32))) {
            for (String j : jvms) {
                boolean two = j.trim().equals("2");
                String key = (two ? "two_jvm" : "one_jvm") + shape.key();
                double[] r = measure(datasets, two, shape.dataset(), moves, batch, gap, durable);
                System.out.printf("%s: overhead median %.1f ms, max %.1f ms, step %.1f ms, %d bytes moved%n", key,
                        r[0], r[1], r[2], (long) r[3]);
                out.put("overhead_ms_" + key + "_median", round(r[0]));
                out.put("overhead_ms_" + key + "_max", round(r[1]));
                out.put("step_ms_" + key + "_median", round(r[2]));
                out.put("bytes_moved" + shape.key(), (long) r[3]);
            }
        }
        return out;
    }

    /** [median overhead, max overhead, median step, bytes moved per move]. */
    static double[] measure(DatasetRegistry datasets, boolean twoJvms, String dataset, int moves, int batch,
                            int gap, String durable) throws Exception {
        int batches = gap * (moves + 1);
        try (BenchCluster c = BenchCluster.start(datasets, twoJvms, Map.of("ferry.durable-handover", durable))) {
            c.device(dataset, batch * batches);
            List<MobilityEvent> script = new ArrayList<>();
            for (int m = 1; m <= moves; m++) {
                script.add(new MobilityEvent("dev-1", 2, (long) m * gap, m % 2 == 1 ? "edge-2" : "edge-1", false));
            }
            // round 1 warms up both edges' paths (one move each way); round 2 is measured
            script.add(new MobilityEvent("dev-1", 1, gap, "edge-2", false));
            script.add(new MobilityEvent("dev-1", 1, 2L * gap, "edge-1", false));
            SessionSpec spec = new SessionSpec("splitfed", "vgg5", dataset, List.of("dev-1"), 2, 4, batch, 1, 0.01f,
                    1, 0, 3600, MigrationMode.FEDFLY, script);
            ModelRef global = c.initialModel(spec);
            c.round("bench", spec, 1, global);
            DeviceResult r = c.round("bench", spec, 2, global);
            double step = r.stepMillisMedian();
            double[] overhead = r.moves().stream().peek(m -> {
                if (m.error() != null) {
                    throw new IllegalStateException("a move failed: " + m.error());
                }
            }).mapToDouble(m -> m.millis() - m.batchesInWindow() * step).sorted().toArray();
            if (r.moves().stream().anyMatch(m -> m.batchesInWindow() != 1)) {
                throw new IllegalStateException("a move between batches must see exactly one batch: " + r.moves());
            }
            if (overhead.length != moves) {
                throw new IllegalStateException(overhead.length + " moves measured, " + moves + " scripted");
            }
            long bytes = r.moves().stream().mapToLong(MoveRecord::bytesMoved).max().orElse(0);
            return new double[] {overhead[overhead.length / 2], overhead[overhead.length - 1], step, bytes};
        }
    }

    static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }
}
