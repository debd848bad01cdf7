package ferry.bench;

import ferry.ops.Args;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.orchestrate.Assignment;
import ferry.zoo.orchestrate.Battery;
import ferry.zoo.orchestrate.EdgeSite;
import ferry.zoo.orchestrate.EnergyModel;
import ferry.zoo.orchestrate.FleetDevice;
import ferry.zoo.orchestrate.Mode;
import ferry.zoo.orchestrate.Policy;
import ferry.zoo.orchestrate.RoundPlan;
import ferry.zoo.orchestrate.RoundPlanner;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.Evaluator;
import ferry.zoo.train.FedAvg;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Battery-aware against battery-blind round planning ({@link RoundPlanner}) on a mixed fleet, with real training:
 * every round each participant trains its Fashion-MNIST partition as planned (LOCAL: the whole model for the
 * local epochs, {@code MonolithicModel}; OFFLOAD: {@code ClientHalf} + {@code ServerHalf} split epochs at the
 * planned cut, activations and gradients encoded as on the wire), the updates that arrive are averaged (FedAvg,
 * weighted by samples) into the next global model, and each participant's battery pays the round's energy.
 * A device whose battery runs out mid-round is lost for good and its update dropped (its partial work is not
 * computed: it would be thrown away). As in production federated learning (Bonawitz et al., "Towards Federated
 * Learning at Scale", SysML 2019) a round is abandoned, and the global model kept, when fewer than a quorum
 * ({@code --quorum}, default 75 %) of the planned updates arrive. The model is VGG-5 ({@code --model mlp} for a
 * quick run); test accuracy at the end is on the whole Fashion-MNIST test set, per round on its first 1000 images.
 *
 * <p>The fleet (8 devices by default; more repeat the pattern) crosses three traits:
 * <ul>
 * <li>compute: strong 20 GFLOP/s or weak 1 GFLOP/s;
 * <li>link: good 50 Mbit/s or poor 2 Mbit/s;
 * <li>battery: devices 0-3 full, 4-7 low. Capacities are in rounds of work: a full battery holds
 * {@value #CAPACITY_ROUNDS} rounds of local training of the device's partition (VGG-5, 250 samples: about 12 J a
 * round, so ~360 J, the share of a phone's battery its owner lets learning use). A low device starts at
 * {@value #LOW_START} of it: below the 10 % threshold, and less than any option costs for one round even when the
 * round's energy comes out 10 % under the prediction. Low devices sit on a trickle charger that puts one round of
 * local training back after every round (about 0.4 W over the 30 s round).
 * </ul>
 * Two edges (200 GFLOP/s, 100 Mbit/s shared by the devices attached) each admit half the fleet. The data is
 * non-IID the usual way (McMahan et al., 2017): the training samples sorted by label, cut into two shards per
 * device and dealt at random, so each device holds about two classes and losing a device loses its classes.
 *
 * <p>Why the policies differ: the blind planner starts the low devices on a round they cannot finish. They die
 * mid-round in round 1, so that round misses its quorum and is abandoned, and their classes are gone for the rest
 * of the run. The aware planner keeps them out until the charger has brought them above the threshold with enough
 * energy for a round (round 4), then uses them every round: nothing is lost and every class is trained. The
 * price is three rounds without them. The energy a round actually takes is the planner's prediction times a
 * seeded jitter of up to ±{@code --jitter} (default 10 %, the same draws for both policies), so the planner's
 * margin is tested too. Both policies plan with the same deadline, threshold and edges; only the battery rules
 * differ (and the aware planner weighs energy against time when it picks a cut).
 */
final class BatteryBench {
    static final Set<String> OPTIONS = Set.of("rounds", "devices", "samples", "model", "batch", "epochs", "deadline",
            "threshold", "jitter", "quorum", "seed");
    static final int CAPACITY_ROUNDS = 30;
    static final double LOW_START = 0.02;
    static final double STRONG_FLOPS = 2e10;
    static final double WEAK_FLOPS = 1e9;
    static final double GOOD_LINK = 50e6;
    static final double POOR_LINK = 2e6;
    static final SgdConfig SGD = SgdConfig.DEFAULT;

    private BatteryBench() {}

    /** One policy's run. */
    record Run(int lost, int completed, int degraded, int updates, int offloaded, double joules,
               List<Double> accuracyPerRound, double accuracy, boolean wireBytesMatch) {}

    static Map<String, Object> run(Args a) {
        long start = System.nanoTime();
        int rounds = a.integer("rounds", 10, 1, 500);
        int n = a.integer("devices", 8, 2, 64);
        int samples = a.integer("samples", 250, 2, 7000);
        String model = a.str("model", "vgg5");
        int batch = a.integer("batch", 32, 1, 1000);
        int epochs = a.integer("epochs", 1, 1, 20);
        double deadline = a.real("deadline", 30);
        double threshold = a.real("threshold", 0.1);
        double jitter = a.real("jitter", 0.1);
        double quorum = a.real("quorum", 0.75);
        long seed = a.integer("seed", 1, 0, Integer.MAX_VALUE);
        if (!(jitter >= 0 && jitter < 1)) {
            throw new Args.UsageException("--jitter must be in [0, 1), got " + jitter);
        }
        if (!(quorum >= 0 && quorum <= 1)) {
            throw new Args.UsageException("--quorum must be in [0, 1], got " + quorum);
        }
        Datasets.Split data = Datasets.fashionMnist(Datasets.fashionMnistDir());
        if ((long) n * samples > data.train().size()) {
            throw new Args.UsageException(n + " devices x " + samples + " samples is more than the "
                    + data.train().size() + " training images");
        }
        ModelSpec spec = ModelSpecs.byName(model, data.train().sampleShape(), data.train().numClasses());
        List<int[]> parts = shards(data.train(), n, samples / 2, seed);
        EnergyModel energy = EnergyModel.DEFAULT;
        // Only costs are read from this planner: the energy of a round of local training, the battery unit.
        RoundPlanner costs = new RoundPlanner(spec, energy, batch, epochs, deadline, threshold, Policy.BATTERY_BLIND);
        List<FleetDevice> fleet = new ArrayList<>();
        Map<String, Double> chargePerRound = new HashMap<>();
        for (int i = 0; i < n; i++) {
            int kind = i % 8;
            boolean strong = kind % 2 == 0;
            boolean goodLink = kind % 4 < 2;
            boolean low = kind >= 4;
            String id = String.format("d%d-%s-%s-%s", i, strong ? "strong" : "weak", goodLink ? "good" : "poor",
                    low ? "low" : "full");
            FleetDevice probe = new FleetDevice(id, strong ? STRONG_FLOPS : WEAK_FLOPS, goodLink ? GOOD_LINK
                    : POOR_LINK, 1, 1, parts.get(i).length);
            double round = costs.joules(probe, 0);
            double capacity = CAPACITY_ROUNDS * round;
            fleet.add(new FleetDevice(id, probe.flops(), probe.linkBitsPerSecond(), low ? LOW_START * capacity
                    : capacity, capacity, probe.samples()));
            chargePerRound.put(id, low ? round : 0.0);
        }
        int cap = (n + 1) / 2;
        List<EdgeSite> edges = List.of(new EdgeSite("edge-1", 2e11, cap, 100e6),
                new EdgeSite("edge-2", 2e11, cap, 100e6));
        ImageDataset quick = data.test().head(1000);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", spec.name());
        out.put("devices", n);
        out.put("samples_per_device", parts.get(0).length);
        out.put("rounds", rounds);
        out.put("batch", batch);
        out.put("local_epochs", epochs);
        out.put("deadline_s", deadline);
        out.put("battery_threshold", threshold);
        out.put("jitter", jitter);
        out.put("quorum", quorum);
        out.put("edge_capacity", cap);
        Map<Policy, Run> runs = new LinkedHashMap<>();
        for (Policy policy : Policy.values()) {
            RoundPlanner planner = new RoundPlanner(spec, energy, batch, epochs, deadline, threshold, policy);
            System.out.println("== " + policy);
            runs.put(policy, simulate(planner, fleet, edges, chargePerRound, parts, data.train(), quick, data.test(),
                    rounds, jitter, quorum, seed));
        }
        String[] suffix = {"aware", "blind"};
        for (int p = 0; p < 2; p++) {
            Run r = runs.get(Policy.values()[p]);
            String s = suffix[p];
            out.put("devices_lost_" + s, r.lost());
            out.put("rounds_completed_" + s, r.completed());
            out.put("accuracy_" + s, r.accuracy());
            out.put("rounds_with_lost_updates_" + s, r.degraded());
            out.put("updates_aggregated_" + s, r.updates());
            out.put("offloaded_updates_" + s, r.offloaded());
            out.put("joules_spent_" + s, Math.round(r.joules() * 10) / 10.0);
            out.put("accuracy_per_round_" + s, r.accuracyPerRound());
        }
        out.put("wire_bytes_match_prediction", runs.values().stream().allMatch(Run::wireBytesMatch));
        out.put("seconds", Math.round((System.nanoTime() - start) / 1e8) / 10.0);
        return out;
    }

    static Run simulate(RoundPlanner planner, List<FleetDevice> start, List<EdgeSite> edges,
                        Map<String, Double> chargePerRound, List<int[]> parts, ImageDataset train,
                        ImageDataset quick, ImageDataset test, int rounds, double jitter, double quorum,
                        long seed) {
        ModelSpec spec = planner.costs().spec();
        List<NamedTensor> global;
        try (MonolithicModel init = new MonolithicModel(spec, seed, SGD)) {
            global = init.weights();
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < start.size(); i++) {
            index.put(start.get(i).id(), i);
        }
        List<FleetDevice> fleet = start;
        int lost = 0;
        int completed = 0;
        int degraded = 0;
        int updates = 0;
        int offloaded = 0;
        double joules = 0;
        boolean wireOk = true;
        List<Double> accuracies = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            long t0 = System.nanoTime();
            if (fleet.isEmpty()) {
                System.out.printf("round %d: no device left%n", r);
                accuracies.add(accuracies.isEmpty() ? 0 : accuracies.get(accuracies.size() - 1));
                continue;
            }
            RoundPlan plan = planner.plan(fleet, edges);
            Map<String, Double> spent = new HashMap<>();
            List<FedAvg.Contribution> contributions = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            int offloadedNow = 0;
            for (FleetDevice d : fleet) {
                Assignment as = plan.of(d.id());
                if (!as.participates()) {
                    continue;
                }
                int i = index.get(d.id());
                double actual = as.predictedJoules() * (1 + jitter * draw(seed, r, i));
                spent.put(d.id(), actual);
                joules += Math.min(actual, d.batteryJoules());
                if (actual > d.batteryJoules()) {
                    notes.add(d.id() + " died mid-round (" + fmt(d.batteryJoules()) + " J left, needed "
                            + fmt(actual) + " J)");
                    continue;
                }
                long[] wire = new long[1];
                List<NamedTensor> w = train(spec, as, global, train, parts.get(i), planner.costs().batch(),
                        planner.costs().epochs(), seed * 7919 + r * 1009L + i, wire);
                long predicted = planner.costs().splitBytes(d.samples(), as.cut());
                if (wire[0] != predicted) {
                    wireOk = false;
                    notes.add(d.id() + " moved " + wire[0] + " split bytes, predicted " + predicted);
                }
                contributions.add(new FedAvg.Contribution(w, d.samples()));
                if (as.mode() == Mode.OFFLOAD) {
                    offloadedNow++;
                }
            }
            Battery.Round after = Battery.apply(fleet, plan, spent);
            lost += after.lost().size();
            if (after.finished().size() < plan.participants().size()) {
                degraded++;
            }
            boolean commit = !contributions.isEmpty()
                    && contributions.size() >= quorum * plan.participants().size();
            if (commit) {
                global = FedAvg.average(contributions);
                completed++;
                updates += contributions.size();
                offloaded += offloadedNow;
            } else {
                notes.add("round abandoned: " + contributions.size() + " of " + plan.participants().size()
                        + " planned updates arrived, quorum " + quorum);
            }
            List<FleetDevice> charged = new ArrayList<>();
            for (FleetDevice d : after.fleet()) {
                charged.add(Battery.charge(d, chargePerRound.get(d.id())));
            }
            fleet = charged;
            double acc = accuracy(spec, global, quick);
            accuracies.add(acc);
            System.out.printf("round %d: %d/%d planned, %d updates%s, %d lost, %d left, accuracy %.4f (1000 test"
                            + " images), %.1fs%n", r, plan.participants().size(), plan.assignments().size(),
                    contributions.size(), commit ? "" : " (abandoned)", after.lost().size(), fleet.size(), acc,
                    (System.nanoTime() - t0) / 1e9);
            if (r == 1 || !notes.isEmpty()) {
                for (Assignment as : plan.assignments()) {
                    System.out.println("  " + as.deviceId() + ": " + (as.participates() ? "" : "out: ")
                            + as.reason());
                }
            }
            for (String note : notes) {
                System.out.println("  ! " + note);
            }
        }
        double acc = accuracy(spec, global, test);
        System.out.printf("%s: %d lost, %d rounds completed, test accuracy %.4f%n", planner.policy(), lost, completed,
                acc);
        return new Run(lost, completed, degraded, updates, offloaded, joules, accuracies, acc, wireOk);
    }

    /** One participant's round as planned; adds the split bytes it moved to {@code wire[0]}. */
    static List<NamedTensor> train(ModelSpec spec, Assignment a, List<NamedTensor> global, ImageDataset train,
                                   int[] indices, int batch, int epochs, long seed, long[] wire) {
        BatchPlan plan = new BatchPlan(indices, batch, seed);
        if (a.mode() == Mode.LOCAL) {
            try (MonolithicModel m = new MonolithicModel(spec, seed, SGD)) {
                m.loadWeights(global, true);
                for (int e = 0; e < epochs; e++) {
                    LocalTraining.monoEpoch(m, train, plan, LocalTraining.SILENT);
                }
                return m.weights();
            }
        }
        try (ClientHalf client = new ClientHalf(spec, a.cut(), seed, SGD);
             ServerHalf server = new ServerHalf(spec, a.cut(), seed, SGD)) {
            int k = client.parameterNames().size();
            client.loadWeights(global.subList(0, k), true);
            server.loadWeights(global.subList(k, global.size()), true);
            for (int e = 0; e < epochs; e++) {
                LocalTraining.EpochStats st = LocalTraining.splitEpoch(client, server, train, plan,
                        LocalTraining.SILENT);
                wire[0] += st.bytesUp() + st.bytesDown();
            }
            List<NamedTensor> w = new ArrayList<>(client.weights());
            w.addAll(server.weights());
            return w;
        }
    }

    static double accuracy(ModelSpec spec, List<NamedTensor> weights, ImageDataset test) {
        try (MonolithicModel m = new MonolithicModel(spec, 1, SGD)) {
            m.loadWeights(weights, true);
            return Evaluator.evaluate(List.of(m), test, 500).accuracy();
        }
    }

    /**
     * Label-sorted shards (McMahan et al.): the first {@code devices * 2 * shard} training samples sorted by label
     * (then index), cut into 2 shards per device, dealt by a seeded shuffle.
     */
    static List<int[]> shards(ImageDataset train, int devices, int shard, long seed) {
        int total = devices * 2 * shard;
        Integer[] order = new Integer[total];
        for (int i = 0; i < total; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> train.label(x) != train.label(y) ? Integer.compare(train.label(x),
                train.label(y)) : Integer.compare(x, y));
        int[] deal = new int[2 * devices];
        for (int s = 0; s < deal.length; s++) {
            deal[s] = s;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int s = deal.length - 1; s > 0; s--) {
            int j = rnd.nextInt(s + 1);
            int t = deal[s];
            deal[s] = deal[j];
            deal[j] = t;
        }
        List<int[]> parts = new ArrayList<>();
        for (int d = 0; d < devices; d++) {
            int[] p = new int[2 * shard];
            for (int h = 0; h < 2; h++) {
                int from = deal[2 * d + h] * shard;
                for (int k = 0; k < shard; k++) {
                    p[h * shard + k] = order[from + k];
                }
            }
            parts.add(p);
        }
        return parts;
    }

    /** A seeded draw in [-1, 1) for (round, device): the same for both policies. */
    static double draw(long seed, int round, int device) {
        return new SplittableRandom(seed * 1_000_003L + round * 8191L + device).nextDouble() * 2 - 1;
    }

    static String fmt(double x) {
        return String.format(java.util.Locale.ROOT, "%.2f", x);
    }
}
