package ferry.ops;

import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.CutProfile;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Split training of a model on Fashion-MNIST in one process: a progress line per epoch, test accuracy, a report. */
public final class SplitTrainingJob {
    public static final Set<String> OPTIONS = Set.of("model", "epochs", "batch", "cut", "lr", "seed", "data", "report",
            "samples");

    private SplitTrainingJob() {}

    public static void run(Args a) {
        String modelName = a.str("model", "vgg5");
        int epochs = a.integer("epochs", 2, 1, 1000);
        int batch = a.integer("batch", 100, 1, 10_000);
        long seed = a.integer("seed", 1, 0, Integer.MAX_VALUE);
        float lr = (float) a.real("lr", SgdConfig.DEFAULT.learningRate());
        Path dataDir = Path.of(a.str("data", Datasets.fashionMnistDir().toString()));
        Path report = Path.of(a.str("report", "run/train-report.json"));

        System.out.println("Ferry: loading Fashion-MNIST from " + dataDir);
        Datasets.Split data = Datasets.fashionMnist(dataDir);
        ImageDataset train = data.train();
        int samples = a.integer("samples", train.size(), 1, train.size());
        if (samples < train.size()) {
            train = train.head(samples);
        }
        ModelSpec spec = ModelSpecs.byName(modelName, train.sampleShape(), train.numClasses());
        int cut = a.integer("cut", spec.defaultCut(), 1, spec.units().size() - 1);
        CutProfile profile = spec.profile(cut);
        SgdConfig sgd = new SgdConfig(lr, SgdConfig.DEFAULT.momentum(), 0f);
        System.out.printf("model %s cut %d (device runs up to %s): %d activation bytes per sample, "
                        + "device %.1f MFLOP/sample fwd, edge %.1f MFLOP/sample fwd%n", spec.name(), cut,
                profile.lastClientUnit(), profile.activationBytes(), profile.clientForwardFlops() / 1e6,
                profile.serverForwardFlops() / 1e6);
        System.out.printf("training on %d samples, testing on %d, batch %d, %d epoch(s), SGD lr %.3g momentum %.2f%n",
                train.size(), data.test().size(), batch, epochs, lr, sgd.momentum());

        List<Map<String, Object>> perEpoch = new ArrayList<>();
        long start = System.nanoTime();
        double accuracy = 0;
        try (ClientHalf client = new ClientHalf(spec, cut, seed, sgd);
             ServerHalf server = new ServerHalf(spec, cut, seed, sgd)) {
            BatchPlan plan = new BatchPlan(allIndices(train.size()), batch, seed);
            for (int e = 1; e <= epochs; e++) {
                final int epoch = e;
                LocalTraining.EpochStats st = LocalTraining.splitEpoch(client, server, train, plan,
                        (b, of, loss) -> {
                            if (b % 150 == 0 && b < of) {
                                System.out.printf("  epoch %d: %d/%d batches, loss %.4f%n", epoch, b, of, loss);
                            }
                        });
                Evaluator.Score score = Evaluator.evaluate(List.of(client, server), data.test(), 500);
                accuracy = score.accuracy();
                System.out.printf("epoch %d/%d  loss %.4f  train-acc %.4f  test-acc %.4f  time %.1fs  "
                                + "%.0f samples/s  up %.1f MB  down %.1f MB%n", e, epochs, st.meanLoss(),
                        st.trainAccuracy(), score.accuracy(), st.seconds(), st.samplesPerSecond(),
                        st.bytesUp() / 1e6, st.bytesDown() / 1e6);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", e);
                row.put("train_loss", st.meanLoss());
                row.put("train_accuracy", st.trainAccuracy());
                row.put("test_accuracy", score.accuracy());
                row.put("test_loss", score.loss());
                row.put("seconds", st.seconds());
                row.put("samples_per_s", st.samplesPerSecond());
                row.put("bytes_up", st.bytesUp());
                row.put("bytes_down", st.bytesDown());
                perEpoch.add(row);
            }
        }
        double total = (System.nanoTime() - start) / 1e9;
        System.out.printf("done: final test accuracy %.4f after %d epoch(s) in %.1fs%n", accuracy, epochs, total);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("job", "split-training");
        out.put("finished", Instant.now().toString());
        out.put("model", spec.name());
        out.put("cut", cut);
        out.put("batch", batch);
        out.put("seed", seed);
        out.put("train_samples", train.size());
        out.put("final_test_accuracy", accuracy);
        out.put("seconds", total);
        out.put("epochs", perEpoch);
        Json.write(report, out);
        System.out.println("report written to " + report.toAbsolutePath());
    }

    static int[] allIndices(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }
}
