package ferry.bench;

import ferry.ops.Args;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.Datasets;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Monolithic and split training of VGG-5 on all of Fashion-MNIST for a few epochs: test accuracy of each. */
final class AccuracyBench {
    static final Set<String> OPTIONS = Set.of("epochs", "batch", "seed");

    private AccuracyBench() {}

    static Map<String, Object> run(Args a) {
        int epochs = a.integer("epochs", 3, 1, 100);
        int batch = a.integer("batch", 100, 1, 4096);
        long seed = a.integer("seed", 1, 0, Integer.MAX_VALUE);
        Datasets.Split data = Datasets.fashionMnist(Datasets.fashionMnistDir());
        ModelSpec spec = ModelSpecs.vgg5(data.train().sampleShape(), 10);
        int[] all = new int[data.train().size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        double accMono;
        double accSplit;
        double secsMono = 0;
        double secsSplit = 0;
        try (MonolithicModel mono = new MonolithicModel(spec, seed, SgdConfig.DEFAULT)) {
            BatchPlan plan = new BatchPlan(all, batch, seed);
            for (int e = 1; e <= epochs; e++) {
                LocalTraining.EpochStats st = LocalTraining.monoEpoch(mono, data.train(), plan, LocalTraining.SILENT);
                secsMono += st.seconds();
                System.out.printf("mono  epoch %d/%d loss %.4f (%.0fs)%n", e, epochs, st.meanLoss(), st.seconds());
            }
            accMono = Evaluator.evaluate(List.of(mono), data.test(), 500).accuracy();
        }
        try (ClientHalf client = new ClientHalf(spec, spec.defaultCut(), seed, SgdConfig.DEFAULT);
             ServerHalf server = new ServerHalf(spec, spec.defaultCut(), seed, SgdConfig.DEFAULT)) {
            BatchPlan plan = new BatchPlan(all, batch, seed);
            for (int e = 1; e <= epochs; e++) {
                LocalTraining.EpochStats st = LocalTraining.splitEpoch(client, server, data.train(), plan,
                        LocalTraining.SILENT);
                secsSplit += st.seconds();
                System.out.printf("split epoch %d/%d loss %.4f (%.0fs)%n", e, epochs, st.meanLoss(), st.seconds());
            }
            accSplit = Evaluator.evaluate(List.of(client, server), data.test(), 500).accuracy();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", spec.name());
        out.put("epochs", epochs);
        out.put("batch", batch);
        out.put("accuracy_mono", accMono);
        out.put("accuracy_split", accSplit);
        out.put("train_seconds_mono", Math.round(secsMono));
        out.put("train_seconds_split", Math.round(secsSplit));
        return out;
    }
}
