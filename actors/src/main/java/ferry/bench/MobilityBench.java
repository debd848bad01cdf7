package ferry.bench;

import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MobilityEvent;
import ferry.actors.session.SessionSpec;
import ferry.ops.Args;
import ferry.persistence.ModelRef;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.SgdConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * As FedFly measures it: one round of the moving device's training (same seeds and data), the device moving
 * after 50 % and after 90 % of its batches, FedFly migration against the restart baseline. Redoing a fraction f
 * of the work costs f/(1+f) of the restarted round, so 33.3 % and 47.4 % are the most a migration can save.
 */
final class MobilityBench {
    static final Set<String> OPTIONS = Set.of("batch", "batches");

    private MobilityBench() {}

    static Map<String, Object> run(Args a) throws Exception {
        int batch = a.integer("batch", 100, 1, 1000);
        int batches = a.integer("batches", 60, 10, 10_000);
        DatasetRegistry datasets = new DatasetRegistry();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "vgg5");
        out.put("dataset", DatasetRegistry.FASHION_MNIST);
        out.put("batch", batch);
        out.put("batches_per_round", batches);
        try (BenchCluster c = BenchCluster.start(datasets, false, Map.of())) {
            c.device(DatasetRegistry.FASHION_MNIST, batch * batches);
            SessionSpec still = spec(batch, MigrationMode.FEDFLY, List.of());
            ModelRef global = c.initialModel(still);
            c.round("warm-up", still, 1, global);
            DeviceResult base = c.round("still", still, 1, global);
            out.put("seconds_no_move", round(base.trainSeconds()));
            System.out.printf("no move: %.2fs%n", base.trainSeconds());
            for (int pct : new int[] {50, 90}) {
                long at = Math.round(batches * pct / 100.0);
                List<MobilityEvent> move = List.of(new MobilityEvent("dev-1", 1, at, "edge-2"));
                DeviceResult mig = c.round("migrate-" + pct, spec(batch, MigrationMode.FEDFLY, move), 1, global);
                DeviceResult rst = c.round("restart-" + pct, spec(batch, MigrationMode.RESTART, move), 1, global);
                double saved = 100 * (rst.trainSeconds() - mig.trainSeconds()) / rst.trainSeconds();
                double accMig = accuracy(c, still, mig);
                double accRst = accuracy(c, still, rst);
                System.out.printf("move at %d%%: migrate %.2fs (acc %.4f), restart %.2fs (acc %.4f): %.1f%% saved%n",
                        pct, mig.trainSeconds(), accMig, rst.trainSeconds(), accRst, saved);
                out.put("seconds_migrate_" + pct, round(mig.trainSeconds()));
                out.put("seconds_restart_" + pct, round(rst.trainSeconds()));
                out.put("time_saved_pct_" + pct, round(saved));
                out.put("max_saving_pct_" + pct, round(100.0 * at / (batches + at)));
                if (pct == 50) {
                    out.put("accuracy_migrate", accMig);
                    out.put("accuracy_restart", accRst);
                }
                out.put("accuracy_migrate_" + pct, accMig);
                out.put("accuracy_restart_" + pct, accRst);
            }
        }
        return out;
    }

    static SessionSpec spec(int batch, MigrationMode mode, List<MobilityEvent> moves) {
        return new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("dev-1"), 1, 4, batch, 1,
                0.01f, 1, 0, 3600, mode, moves);
    }

    /** Test accuracy of the model the round produced (client and server halves joined). */
    static double accuracy(BenchCluster c, SessionSpec spec, DeviceResult r) {
        try (MonolithicModel m = new MonolithicModel(spec.modelSpec(), 1, SgdConfig.DEFAULT)) {
            m.loadWeights(ModelBlobs.join(c.node.services().blobs(), r.parts()), true);
            return Evaluator.evaluate(List.of(m), c.datasets.test(DatasetRegistry.FASHION_MNIST), 500).accuracy();
        }
    }

    static double round(double x) {
        return Math.round(x * 100) / 100.0;
    }
}
