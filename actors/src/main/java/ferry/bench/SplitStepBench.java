package ferry.bench;

import ai.djl.pytorch.jni.JniUtils;
import ferry.ops.Args;
import ferry.zoo.data.Batch;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The split step (client forward, activations to bytes and back, server step, gradient to bytes and back, client
 * backward) against the monolithic step: same model, batches, thread settings and process. Rounds alternate
 * between the two so drift in machine load hits both alike.
 */
final class SplitStepBench {
    static final Set<String> OPTIONS = Set.of("batch", "rounds", "steps", "warmup", "model");

    private SplitStepBench() {}

    static Map<String, Object> run(Args a) {
        int batch = a.integer("batch", 100, 1, 4096);
        int rounds = a.integer("rounds", 8, 1, 1000);
        int steps = a.integer("steps", 20, 1, 10_000);
        int warmup = a.integer("warmup", 40, 0, 10_000);
        ImageDataset train = Datasets.fashionMnist(Datasets.fashionMnistDir()).train();
        ModelSpec spec = ModelSpecs.byName(a.str("model", "vgg5"), train.sampleShape(), 10);
        int cut = spec.defaultCut();
        long monoNanos = 0;
        long splitNanos = 0;
        long[] bytes = new long[2];
        try (MonolithicModel mono = new MonolithicModel(spec, 1, SgdConfig.DEFAULT);
             ClientHalf client = new ClientHalf(spec, cut, 1, SgdConfig.DEFAULT);
             ServerHalf server = new ServerHalf(spec, cut, 1, SgdConfig.DEFAULT)) {
            for (int w = 0; w < warmup; w++) { // warm-up: allocator pools, JIT, CPU caches
                Batch b = batchAt(train, w, batch);
                mono.step(b);
                LocalTraining.splitStep(client, server, b, bytes);
            }
            int at = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    mono.step(batchAt(train, at + s, batch));
                }
                long t1 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    LocalTraining.splitStep(client, server, batchAt(train, at + s, batch), bytes);
                }
                long t2 = System.nanoTime();
                monoNanos += t1 - t0;
                splitNanos += t2 - t1;
                at += steps;
                System.out.printf("round %d/%d: mono %.1f ms/step, split %.1f ms/step%n", r + 1, rounds,
                        (t1 - t0) / 1e6 / steps, (t2 - t1) / 1e6 / steps);
            }
        }
        double samples = (double) rounds * steps * batch;
        double mono = samples / (monoNanos / 1e9);
        double split = samples / (splitNanos / 1e9);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", spec.name());
        out.put("cut", cut);
        out.put("batch", batch);
        out.put("steps", rounds * steps);
        out.put("threads", JniUtils.getNumThreads());
        out.put("mono_samples_per_s", round(mono));
        out.put("split_samples_per_s", round(split));
        out.put("ratio", Math.round(split / mono * 1000) / 1000.0);
        return out;
    }

    /** Batch number k of the training set in file order (wrapping), so both sides see the same data. */
    static Batch batchAt(ImageDataset d, int k, int batch) {
        int per = d.size() / batch;
        int from = (k % per) * batch;
        return d.range(from, from + batch);
    }

    static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }
}
