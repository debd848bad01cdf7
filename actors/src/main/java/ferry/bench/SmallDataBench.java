package ferry.bench;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import ferry.ops.Args;
import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.data.Partitioner;
import ferry.zoo.model.CutProfile;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.select.CentroidSelector;
import ferry.zoo.select.DataSelector;
import ferry.zoo.select.DataSelectors;
import ferry.zoo.select.LossSelector;
import ferry.zoo.select.OnlineSelection;
import ferry.zoo.select.SampleScorer;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.FedAvg;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.SampleLosses;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import ferry.zoo.train.StepResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Small-data training: does training on an informative fraction of each device's samples get close to training on
 * all of them? VGG-5 on Fashion-MNIST, split at a cut (default 4: conv-pool-conv-pool on the device, 12,544 bytes of
 * activations per sample), {@code --devices} simulated devices, each with an IID part of the training set cut to
 * {@code --samples}; one process, no cluster, activations and gradients encoded and decoded as on the wire.
 *
 * <p>Every setting starts from the same initial model and runs the same rounds; in a round each device in turn
 * trains one local epoch: over all its samples ({@code full}), or over {@code fraction} of them. The last 30 % of
 * the rounds ({@code --decay}) run at a tenth of the learning rate, alike for every setting. Algorithm
 * {@code sl} (default) is vanilla split learning: one model, passed from device to device; {@code splitfed}
 * starts every device from the global halves and averages them at round end (FedAvg weighted by samples trained).
 * A selector that scores with the model ({@code loss}) chooses every batch afresh (see {@link OnlineSelection}):
 * it draws a random pool of {@code --pool} times the batch from the device's samples, scores the pool with the
 * model as it is at that step, and keeps a batch, half highest-loss and half at random by default ({@code --hard}).
 * The device scores with its client half and a copy of the server half downloaded at the start of its turn.
 * Model-free selectors ({@code random}, {@code centroid}) choose once per round. A random subset of exactly the
 * same size and schedule at 30 % is trained as a control ({@code accuracy_30_random}), so the gain of choosing is
 * visible and not only the cost of keeping less.
 *
 * <p>Reported per setting: test accuracy on the whole 10k test set; wall seconds of training including selection
 * (scoring is also given alone, {@code select_seconds_*}); and bytes that crossed the cut: per trained sample the
 * activations and a 4-byte label up and the cut-layer gradient down ({@code 2 * activationBytes + 4}), plus, for
 * a scoring selector, the server half each device downloads each round. SplitFed's half-model exchange is the same
 * for every setting and is reported once ({@code model_bytes_per_round}, 0 for sl).
 */
final class SmallDataBench {
    static final Set<String> OPTIONS = Set.of("rounds", "devices", "samples", "selector", "batch", "cut", "lr",
            "seed", "algorithm", "hard", "pool", "fractions", "control", "threads", "decay");

    private SmallDataBench() {}

    /** One training setting's outcome. */
    record Outcome(double accuracy, double seconds, double selectSeconds, long bytes, long trainedSamples) {}

    static Map<String, Object> run(Args a) {
        int rounds = a.integer("rounds", 10, 1, 1000);
        int devices = a.integer("devices", 4, 1, 64);
        int samples = a.integer("samples", 1500, 10, 60_000);
        int batch = a.integer("batch", 32, 1, 4096);
        int cut = a.integer("cut", 4, 1, 6);
        long seed = a.integer("seed", 1, 0, Integer.MAX_VALUE);
        double lr = a.real("lr", 0.01);
        if (!(lr > 0 && lr < 10)) {
            throw new Args.UsageException("--lr must be in (0, 10), got " + lr);
        }
        String algorithm = a.str("algorithm", "sl");
        if (!algorithm.equals("splitfed") && !algorithm.equals("sl")) {
            throw new Args.UsageException("--algorithm must be sl or splitfed, got '" + algorithm + "'");
        }
        int hard = a.integer("hard", -1, 0, 100);
        DataSelector selector = selector(a.str("selector", "loss"), hard);
        double pool = a.real("pool", 2);
        if (!(pool >= 1 && pool <= 100)) {
            throw new Args.UsageException("--pool (candidates scored per sample kept) must be in [1, 100], got "
                    + pool);
        }
        boolean online = selector.needsScorer();
        String control = a.str("control", "true");
        if (!control.equals("true") && !control.equals("false")) {
            throw new Args.UsageException("--control must be true or false, got '" + control + "'");
        }
        int[] fractions = percents(a.str("fractions", "10,30,50"));
        int threads = a.integer("threads", 0, 0, 64);
        if (threads > 0) {
            // On a shared, busy machine PyTorch's default (a thread per core) spins against the other processes.
            Engine.getEngine("PyTorch"); // loads the native library the call below goes to
            JniUtils.setNumThreads(threads);
        }

        Datasets.Split data = Datasets.fashionMnist(Datasets.fashionMnistDir());
        ModelSpec spec = ModelSpecs.vgg5(data.train().sampleShape(), 10);
        try {
            spec.checkCut(cut);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--cut: " + e.getMessage());
        }
        List<int[]> all = Partitioner.iid(data.train().size(), devices, seed);
        if (samples > all.get(all.size() - 1).length) {
            throw new Args.UsageException("--samples " + samples + " per device, but " + devices + " IID parts of "
                    + data.train().size() + " hold only " + all.get(all.size() - 1).length);
        }
        List<int[]> parts = new ArrayList<>();
        for (int[] p : all) {
            parts.add(Arrays.copyOf(p, samples));
        }
        SgdConfig sgd = new SgdConfig((float) lr, 0.9f, 0f);
        // The last --decay percent of the rounds (at least one, when not 0) run at a tenth of the learning rate.
        int decayPct = a.integer("decay", 30, 0, 100);
        int decayRounds = decayPct == 0 ? 0 : (int) Math.max(1, Math.round(rounds * decayPct / 100.0));
        int decayFrom = rounds - decayRounds + 1;
        CutProfile profile = spec.profile(cut);
        Setup s = new Setup(spec, cut, seed, sgd, decayFrom, algorithm, data.train(), data.test(), parts, rounds,
                batch, profile, pool);

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", spec.name());
        out.put("dataset", "fashion-mnist");
        out.put("algorithm", algorithm);
        out.put("cut", cut);
        out.put("devices", devices);
        out.put("samples_per_device", samples);
        out.put("partition", "iid");
        out.put("rounds", rounds);
        out.put("local_epochs_per_round", 1);
        out.put("batch", batch);
        out.put("lr", lr);
        out.put("lr_div10_from_round", decayRounds == 0 ? null : decayFrom);
        out.put("selector", selector.name());
        out.put("reselect", online ? "every batch" : "every round");
        if (selector instanceof LossSelector l) {
            out.put("hard_share", l.hardShare());
            out.put("pool_factor", pool);
        } else if (selector instanceof CentroidSelector c) {
            out.put("hard_share", c.hardShare());
        }
        out.put("threads", JniUtils.getNumThreads());
        out.put("activation_bytes_per_sample", profile.activationBytes());
        out.put("model_bytes_per_round", algorithm.equals("splitfed")
                ? 2L * devices * (profile.clientParamBytes() + profile.serverParamBytes()) : 0L);

        Outcome full = s.train(DataSelectors.NONE, 1.0, false, "full");
        put(out, "full", full);
        Double acc30 = null;
        for (int pct : fractions) {
            Outcome o = s.train(selector, pct / 100.0, online, selector.name() + " " + pct + "%");
            put(out, String.valueOf(pct), o);
            if (pct == 30) {
                acc30 = o.accuracy();
            }
        }
        if (control.equals("true") && !selector.name().equals("random") && acc30 != null) {
            Outcome r = s.train(DataSelectors.byName("random"), 0.3, online, "random 30% (control)");
            out.put("accuracy_30_random", r.accuracy());
            out.put("gap_pp_at_30_random", round(100 * (full.accuracy() - r.accuracy())));
            out.put("seconds_30_random", round(r.seconds()));
            out.put("trained_samples_30_random", r.trainedSamples());
        }
        if (acc30 != null) {
            double gap = 100 * (full.accuracy() - acc30);
            out.put("gap_pp_at_30", round(gap));
            out.put("within_1pp_at_30", gap <= 1.0);
        }
        return out;
    }

    static DataSelector selector(String name, int hardPct) {
        if ("none".equals(name)) {
            throw new Args.UsageException("--selector none keeps everything; the full-data run is always made");
        }
        DataSelector sel;
        try {
            sel = DataSelectors.byName(name);
            if (hardPct >= 0 && sel instanceof LossSelector) {
                return new LossSelector(hardPct / 100.0, LossSelector.DEFAULT_POOL_FACTOR);
            } else if (hardPct >= 0 && sel instanceof CentroidSelector) {
                return new CentroidSelector(hardPct / 100.0);
            }
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--selector: " + e.getMessage());
        }
        if (hardPct >= 0) {
            throw new Args.UsageException("--hard applies to the loss and centroid selectors only");
        }
        return sel;
    }

    static int[] percents(String list) {
        String[] p = list.split(",");
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            try {
                out[i] = Integer.parseInt(p[i].trim());
            } catch (NumberFormatException e) {
                throw new Args.UsageException("--fractions takes whole percents like 10,30,50, got '" + list + "'");
            }
            if (out[i] < 1 || out[i] > 100) {
                throw new Args.UsageException("--fractions: " + out[i] + " % is not in 1..100");
            }
        }
        return out;
    }

    static void put(Map<String, Object> out, String key, Outcome o) {
        out.put("accuracy_" + key, o.accuracy());
        out.put("seconds_" + key, round(o.seconds()));
        out.put("select_seconds_" + key, round(o.selectSeconds()));
        out.put("bytes_sent_" + key, o.bytes());
        out.put("trained_samples_" + key, o.trainedSamples());
    }

    /** The device's and the edge's halves, and the copy of the server half a scoring device holds. */
    static final class Halves implements AutoCloseable {
        private final ModelSpec spec;
        private final int cut;
        private final long seed;
        ClientHalf client;
        ServerHalf server;
        final ServerHalf scoring;

        Halves(ModelSpec spec, int cut, long seed, SgdConfig sgd) {
            this.spec = spec;
            this.cut = cut;
            this.seed = seed;
            this.client = new ClientHalf(spec, cut, seed, sgd);
            this.server = new ServerHalf(spec, cut, seed, sgd);
            this.scoring = new ServerHalf(spec, cut, seed, sgd);
        }

        /** Goes on with another learning rate: weights, momentum and cursor carried over exactly. */
        void relearn(SgdConfig sgd) {
            ClientHalf c = new ClientHalf(spec, cut, seed, sgd);
            c.load(client.state());
            client.close();
            client = c;
            ServerHalf sv = new ServerHalf(spec, cut, seed, sgd);
            sv.load(server.state());
            server.close();
            server = sv;
        }

        @Override
        public void close() {
            client.close();
            server.close();
            scoring.close();
        }
    }

    /** Everything a setting shares with the others: the same model, data, partitions, rounds and seeds. */
    record Setup(ModelSpec spec, int cut, long seed, SgdConfig sgd, int decayFrom, String algorithm,
                 ImageDataset train, ImageDataset test, List<int[]> parts, int rounds, int batch, CutProfile profile,
                 double pool) {

        /**
         * Trains from the initial model for all rounds with {@code selector} keeping {@code fraction} of each
         * device's samples, chosen per batch ({@code online}) or once per round; test accuracy at the end.
         */
        Outcome train(DataSelector selector, double fraction, boolean online, String label) {
            boolean fedAvg = algorithm.equals("splitfed");
            long trained = 0;
            long bytes = 0;
            double selectNanos = 0;
            long start = System.nanoTime();
            try (Halves h = new Halves(spec, cut, seed, sgd)) {
                List<NamedTensor> globalClient = h.client.weights();
                List<NamedTensor> globalServer = h.server.weights();
                // The device scores with the client half as it is now and the copy of the server half it
                // downloaded at the start of its turn: forward only, on the device, nothing sent.
                SampleScorer scorer = (d, idx) -> SampleLosses.of(List.of(h.client, h.scoring), d, idx, 100);
                for (int r = 1; r <= rounds; r++) {
                    if (r == decayFrom) {
                        // The last rounds at a tenth of the rate, for every setting alike: without it the test
                        // accuracy of the final model swings by a point or two from one round to the next, more
                        // than the differences this benchmark is after.
                        h.relearn(new SgdConfig(sgd.learningRate() / 10, sgd.momentum(), sgd.weightDecay()));
                    }
                    List<FedAvg.Contribution> cs = new ArrayList<>();
                    List<FedAvg.Contribution> ss = new ArrayList<>();
                    double lossSum = 0;
                    long roundSamples = 0;
                    for (int d = 0; d < parts.size(); d++) {
                        ClientHalf client = h.client;
                        ServerHalf server = h.server;
                        if (fedAvg) {
                            client.loadWeights(globalClient, true);
                            server.loadWeights(globalServer, true);
                        }
                        if (selector.needsScorer()) {
                            h.scoring.loadWeights(server.weights(), true);
                            bytes += profile.serverParamBytes(); // that download
                        }
                        // The seed differs per round and device, so the random part of a selection changes too.
                        long selSeed = seed * 1_000_003L + r * 1009L + d;
                        int[] part = parts.get(d);
                        OnlineSelection perBatch = null;
                        BatchPlan plan = null;
                        int steps;
                        long t0 = System.nanoTime();
                        if (fraction < 1 && online) {
                            perBatch = new OnlineSelection(selector, train, part, fraction, batch, pool, selSeed);
                            steps = perBatch.steps();
                        } else {
                            int[] chosen = selector.select(train, part, fraction, selSeed, scorer);
                            plan = new BatchPlan(chosen, batch, selSeed);
                            steps = plan.batchesPerEpoch();
                        }
                        selectNanos += System.nanoTime() - t0;
                        long deviceSamples = 0;
                        long[] wire = new long[2];
                        for (int k = 0; k < steps; k++) {
                            int[] idx;
                            if (perBatch != null) {
                                long t1 = System.nanoTime();
                                idx = perBatch.batch(k, scorer);
                                selectNanos += System.nanoTime() - t1;
                            } else {
                                idx = plan.batch(k);
                            }
                            Batch b = train.batch(idx);
                            StepResult res = LocalTraining.splitStep(client, server, b, wire);
                            lossSum += res.loss() * b.size();
                            deviceSamples += b.size();
                        }
                        trained += deviceSamples;
                        roundSamples += deviceSamples;
                        // Per trained sample: activations and a 4-byte label up, the cut-layer gradient down.
                        bytes += deviceSamples * (2 * profile.activationBytes() + 4);
                        if (fedAvg) {
                            cs.add(new FedAvg.Contribution(client.weights(), deviceSamples));
                            ss.add(new FedAvg.Contribution(server.weights(), deviceSamples));
                        }
                    }
                    if (fedAvg) {
                        globalClient = FedAvg.average(cs);
                        globalServer = FedAvg.average(ss);
                    }
                    System.out.printf("%s: round %d/%d, %d samples, train loss %.4f (%.0fs)%n", label, r, rounds,
                            roundSamples, lossSum / roundSamples, (System.nanoTime() - start) / 1e9);
                }
                if (fedAvg) {
                    h.client.loadWeights(globalClient, true);
                    h.server.loadWeights(globalServer, true);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double acc = Evaluator.evaluate(List.of(h.client, h.server), test, 500).accuracy();
                System.out.printf("%s: test accuracy %.4f, %.1fs (selection %.1fs), %d samples trained, %d bytes%n",
                        label, acc, seconds, selectNanos / 1e9, trained, bytes);
                return new Outcome(acc, seconds, selectNanos / 1e9, bytes, trained);
            }
        }
    }

    static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }
}
