package ferry.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.Algorithms;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.SessionSpec;
import ferry.device.DeviceTrainer;
import ferry.device.EdgeConnection;
import ferry.grpc.EdgeGrpcServer;
import ferry.grpc.GrpcSettings;
import ferry.grpc.Tokens;
import ferry.ops.Args;
import ferry.ops.Asks;
import ferry.ops.DeviceCommand;
import ferry.persistence.FerryConfig;
import ferry.persistence.ModelRef;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The split step over gRPC against the split step in one process, VGG-5 at the default cut. Over gRPC: a real
 * device (the client library, this JVM) trains its half and sends each step over TLS on loopback to a one-node
 * cluster's edge service, which checks it and hands it to the device's server half (an OffloadedTraining
 * entity); in process: the same halves called directly, with the same wire encoding of activations and
 * gradients (SplitStepBench's split step). Rounds alternate between the two so machine load hits both alike; a
 * step is timed from one step's end to the next's on the device (forward, the call, backward), the first step
 * of each round (a new connection's warm-up) left out. Then 8 devices train at once against the edge.
 */
final class GrpcStepBench {
    static final Set<String> OPTIONS = Set.of("batch", "batches", "rounds", "devices", "device-batches",
            "plaintext");

    private GrpcStepBench() {}

    static Map<String, Object> run(Args a) throws Exception {
        int batch = a.integer("batch", 100, 1, 4096);
        int batches = a.integer("batches", 30, 3, 600);
        int rounds = a.integer("rounds", 3, 1, 100);
        int devices = a.integer("devices", 8, 1, 64);
        int deviceBatches = a.integer("device-batches", 15, 2, 600);
        boolean plaintext = Boolean.parseBoolean(a.str("plaintext", "false")); // for comparison only
        Path dir = Files.createTempDirectory("ferry-grpc-bench");
        // a scratch H2 database: data-dir goes in before the config's substitutions are resolved
        Config config = FerryConfig.load(FerryConfig.Journal.H2, ConfigFactory.parseMap(Map.of(
                "pekko.remote.artery.canonical.port", "0", "ferry.data-dir", dir.resolve("data").toString())));
        Path certs = certs(dir.resolve("certs"));
        DatasetRegistry datasets = new DatasetRegistry();
        ImageDataset train = datasets.train(DatasetRegistry.FASHION_MNIST);
        DataPartition part = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 1, 0, 1, batch * batches);
        SessionSpec spec = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("phone-1"), 1,
                4, batch, 1, 0.01f, 1, 0, 600);
        ModelSpec model = spec.modelSpec();
        double grpcSeconds = 0;
        double localSeconds = 0;
        long measured = 0;
        double multiStepsPerS;
        long multiSteps;
        try (FerryNode node = FerryNode.start("bench", config, datasets)) {
            GrpcSettings s = GrpcSettings.fromConfig(ConfigFactory.parseMap(Map.of("ferry.grpc.port", 0,
                    "ferry.grpc.cert", certs.resolve("edge.pem").toString(), "ferry.grpc.key",
                    certs.resolve("edge-key.pem").toString(), "ferry.grpc.plaintext", plaintext))
                    .withFallback(config));
            Path ca = plaintext ? null : certs.resolve("ca.pem");
            EdgeGrpcServer.Running edge = get(EdgeGrpcServer.start(node, s, List.of("edge-1")));
            get(node.hostEdge("edge-1", devices, edge.endpoint(), Duration.ofSeconds(60)));
            Path data = dir.resolve("device-data");
            int n = DeviceCommand.write(datasets, part, data);
            ImageDataset local = Datasets.idx("phone", data, "train");
            for (int i = 1; i <= devices; i++) {
                register(node, "phone-" + i, n);
            }
            ModelRef global;
            try (MonolithicModel init = new MonolithicModel(model, 1, SgdConfig.DEFAULT)) {
                global = ModelBlobs.putWeights(node.services().blobs(), init.weights());
            }
            int[] indices = datasets.partition(part);
            try (DeviceTrainer phone = trainer(node, edge, "phone-1", local, ca)) {
                // round 0 warms up both paths (JIT, allocator pools, the TLS connection); 1.. are measured
                for (int r = 0; r <= rounds; r++) {
                    int round = r + 1;
                    List<Long> marks = new ArrayList<>();
                    phone.onStep((x, cursor, epoch) -> marks.add(System.nanoTime()));
                    CompletionStage<DeviceResult> res = trainRound(node, spec, "phone-1", round, global);
                    phone.trainNext(Duration.ofSeconds(60));
                    check(get(res));
                    double g = (marks.get(marks.size() - 1) - marks.get(0)) / 1e9;
                    double l = inProcess(model, train, indices, batch, round);
                    System.out.printf("round %d%s: gRPC %.1f ms/step, in-process %.1f ms/step%n", r,
                            r == 0 ? " (warm-up)" : "", g * 1000 / (marks.size() - 1),
                            l * 1000 / (marks.size() - 1));
                    if (r > 0) {
                        grpcSeconds += g;
                        localSeconds += l;
                        measured += marks.size() - 1;
                    }
                }
            }
            // devices at once, each on a thread of its own, against the one edge
            DataPartition small = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 1, 0, 1, batch * deviceBatches);
            Path smallDir = dir.resolve("device-data-small");
            DeviceCommand.write(datasets, small, smallDir);
            ImageDataset smallData = Datasets.idx("phone", smallDir, "train");
            AtomicLong first = new AtomicLong(Long.MAX_VALUE);
            AtomicLong last = new AtomicLong();
            AtomicLong steps = new AtomicLong();
            List<CompletableFuture<Void>> running = new ArrayList<>();
            List<CompletionStage<DeviceResult>> results = new ArrayList<>();
            List<DeviceTrainer> trainers = new ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(devices);
            for (int i = 1; i <= devices; i++) {
                String id = "phone-" + i;
                DeviceTrainer t = trainer(node, edge, id, smallData, ca);
                trainers.add(t);
                t.onStep((x, cursor, epoch) -> {
                    long now = System.nanoTime();
                    first.accumulateAndGet(now, Math::min);
                    last.accumulateAndGet(now, Math::max);
                    steps.incrementAndGet();
                });
                SessionSpec many = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of(id), 1, 4,
                        batch, 1, 0.01f, 1, 0, 600);
                results.add(trainRound(node, many, id, 100, global));
                running.add(CompletableFuture.runAsync(() -> t.trainNext(Duration.ofSeconds(60)), pool));
            }
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
            for (CompletionStage<DeviceResult> r : results) {
                check(get(r));
            }
            trainers.forEach(DeviceTrainer::close);
            pool.shutdown();
            // the first step of each device is left out, as its clock starts there
            multiSteps = steps.get() - devices;
            multiStepsPerS = multiSteps / ((last.get() - first.get()) / 1e9);
        }
        double grpcMs = grpcSeconds * 1000 / measured;
        double localMs = localSeconds * 1000 / measured;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "vgg5");
        out.put("cut", model.defaultCut());
        out.put("batch", batch);
        out.put("steps", measured);
        out.put("tls", !plaintext);
        out.put("grpc_ms_per_step", SplitStepBench.round(grpcMs));
        out.put("in_process_ms_per_step", SplitStepBench.round(localMs));
        out.put("grpc_steps_per_s", SplitStepBench.round(1000 / grpcMs));
        out.put("in_process_steps_per_s", SplitStepBench.round(1000 / localMs));
        out.put("ratio", Math.round(localMs / grpcMs * 1000) / 1000.0);
        out.put("devices", devices);
        out.put("steps_8_devices", multiSteps);
        out.put("steps_per_s_8_devices", SplitStepBench.round(multiStepsPerS));
        return out;
    }

    /** The same steps in one process: client half, wire encoding both ways, server half. */
    private static double inProcess(ModelSpec model, ImageDataset train, int[] indices, int batch, int round) {
        long[] bytes = new long[2];
        SgdConfig sgd = new SgdConfig(0.01f, SgdConfig.DEFAULT.momentum(), 0f);
        try (ClientHalf c = new ClientHalf(model, model.defaultCut(), 1, sgd);
             ServerHalf s = new ServerHalf(model, model.defaultCut(), 1, sgd)) {
            BatchPlan plan = new BatchPlan(indices, batch, 7919L + round);
            LocalTraining.splitStep(c, s, train.batch(plan.batch(0)), bytes); // as the gRPC side, step 0 untimed
            long t0 = System.nanoTime();
            for (int k = 1; k < plan.batchesPerEpoch(); k++) {
                LocalTraining.splitStep(c, s, train.batch(plan.batch(k)), bytes);
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    private static CompletionStage<DeviceResult> trainRound(FerryNode node, SessionSpec spec, String id, int round,
                                                            ModelRef global) {
        return Asks.ask(node.services().device(id), reply -> new Device.TrainRound(
                Algorithms.SPLITFED.instruct("bench", spec, id, round, 1, global), reply), Duration.ofMinutes(10),
                node.system().scheduler());
    }

    private static void check(DeviceResult r) {
        if (!r.ok()) {
            throw new IllegalStateException(r.deviceId() + "'s round failed: " + r.error());
        }
    }

    private static void register(FerryNode node, String id, int samples) throws Exception {
        get(Asks.ack(node.services().device(id), r -> new Device.Register(DeviceProfile.DEFAULT,
                DataPartition.remote(DatasetRegistry.FASHION_MNIST, samples), Tokens.hash(token(id)), r),
                Duration.ofSeconds(60), node.system().scheduler()));
        get(Asks.ack(node.services().device(id), r -> new Device.AttachTo("edge-1", r), Duration.ofSeconds(60),
                node.system().scheduler()));
    }

    private static String token(String id) {
        return "bench-token-of-" + id;
    }

    private static DeviceTrainer trainer(FerryNode node, EdgeGrpcServer.Running edge, String id, ImageDataset data,
                                         Path ca) {
        return new DeviceTrainer(node.system(), edge.endpoint(), new EdgeConnection.Credentials(id, token(id), ca),
                data, m -> { }, Duration.ofSeconds(30));
    }

    /** ops/gen-certs into {@code dir} (run from FERRY_HOME, as ops/bench does). */
    private static Path certs(Path dir) throws Exception {
        Process p = new ProcessBuilder("bash", "ops/gen-certs", "--out", dir.toString()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("ops/gen-certs failed: " + out);
        }
        return dir;
    }

    static <T> T get(CompletionStage<T> f) throws Exception {
        return f.toCompletableFuture().get(10, TimeUnit.MINUTES);
    }
}
