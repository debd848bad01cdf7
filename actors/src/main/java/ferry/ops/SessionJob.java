package ferry.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MobilityEvent;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.Planning;
import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.persistence.FerryConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;


/**
 * The main job: a one-node cluster on the embedded journal, edge servers and simulated devices holding
 * Fashion-MNIST partitions, and one training session run to the end with a progress line per round, a summary
 * and a JSON report. Started again after a crash (kill -9 included) it resumes the unfinished session from its
 * last committed round.
 */
public final class SessionJob {
    public static final Set<String> OPTIONS = Set.of("algorithm", "rounds", "devices", "edges",
            "samples-per-device", "batch", "cut", "lr", "seed", "journal", "session", "report", "timeout",
            "migration", "move-round", "move-at", "phi", "planning");
    static final Path LAST_SESSION = Path.of("run/last-session");

    private SessionJob() {}

    public static void run(Args a) {
        String algorithm = a.str("algorithm", "splitfed");
        int rounds = a.integer("rounds", 3, 1, 10_000);
        int devices = a.integer("devices", 4, 1, 1000);
        int edges = a.integer("edges", 2, 1, 100);
        int perDevice = a.integer("samples-per-device", 5000, 10, 60_000);
        int batch = a.integer("batch", 50, 1, 10_000);
        long seed = a.integer("seed", 1, 0, Integer.MAX_VALUE);
        float lr = (float) a.real("lr", 0.01);
        FerryConfig.Journal journal = FerryConfig.Journal.parse(a.str("journal",
                FerryConfig.Journal.fromEnvOrDefault().name()));
        Path report = Path.of(a.str("report", "run/session-report.json"));
        if ((long) devices * perDevice > 60_000) {
            throw new Args.UsageException(devices + " devices x " + perDevice + " samples exceed Fashion-MNIST's "
                    + "60000 training samples");
        }
        List<String> deviceIds = new ArrayList<>();
        for (int i = 1; i <= devices; i++) {
            deviceIds.add("dev-" + i);
        }
        // The main job shows a FedFly migration: dev-1 moves to the next edge half-way through a round.
        MigrationMode migration = MigrationMode.parse(a.str("migration", "fedfly"));
        int moveRound = a.integer("move-round", Math.min(2, rounds), 0, rounds);
        double moveAt = a.real("move-at", 0.5);
        if (!(moveAt >= 0 && moveAt < 1)) {
            throw new Args.UsageException("--move-at is the fraction of the round's batches done before the move, "
                    + "in [0, 1); got " + moveAt);
        }
        List<MobilityEvent> moves = new ArrayList<>();
        if (moveRound > 0 && edges > 1 && algorithm.equals("splitfed")) {
            long batches = (perDevice + batch - 1) / batch;
            moves.add(new MobilityEvent("dev-1", moveRound, (long) (moveAt * batches), "edge-2"));
        }
        double phi = a.real("phi", algorithm.equals("epsl") ? 0.5 : 0);
        Planning planning;
        try {
            planning = Planning.valueOf(a.str("planning", "fixed").toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--planning is fixed or optimised, got '" + a.str("planning", "") + "'");
        }
        SessionSpec spec = new SessionSpec(algorithm, "vgg5", DatasetRegistry.FASHION_MNIST, deviceIds, rounds,
                a.integer("cut", 4, 1, 6), batch, 1, lr, seed, 0, a.integer("timeout", 600, 1, 86_400), migration,
                moves, phi, planning);
        String sessionId = a.str("session", resumableOrNew());

        Config config = FerryConfig.load(journal, ConfigFactory.empty());
        System.out.printf("Ferry: one-node cluster, %s journal; %d edge(s), %d device(s) x %d Fashion-MNIST "
                + "samples; %s session '%s', %d round(s)%n", journal.name().toLowerCase(), edges, devices, perDevice,
                algorithm, sessionId, rounds);
        long start = System.nanoTime();
        try (FerryNode node = FerryNode.start("ferry", config, new DatasetRegistry())) {
            var sys = node.system();
            var svc = node.services();
            Duration t = Duration.ofSeconds(60);
            for (int e = 1; e <= edges; e++) {
                String id = "edge-" + e;
                await(node.hostEdge(id, devices, t), "register " + id);
            }
            for (int i = 0; i < devices; i++) {
                String id = deviceIds.get(i);
                DataPartition part = DataPartition.iid(DatasetRegistry.FASHION_MNIST, devices, i, seed,
                        devices * perDevice);
                await(Asks.ack(svc.device(id), r -> new Device.Register(DeviceProfile.DEFAULT, part, r),
                        t, sys.scheduler()), "register " + id);
                String edge = "edge-" + (i % edges + 1);
                await(Asks.ack(svc.device(id), r -> new Device.AttachTo(edge, r), t,
                        sys.scheduler()), "attach " + id + " to " + edge);
            }
            mark(sessionId, "running"); // so a crashed run is resumed by the next one
            await(Asks.ack(svc.session(sessionId), r -> new TrainingSession.Create(spec, r), t,
                    sys.scheduler()), "create session " + sessionId);

            TrainingSession.State s = follow(node, sessionId, t);
            mark(sessionId, s.status().name().toLowerCase());
            double total = (System.nanoTime() - start) / 1e9;
            summarize(s, total);
            writeReport(report, s, journal, total);
            if (s.status() != TrainingSession.Status.FINISHED) {
                throw new IllegalStateException("session " + sessionId + " " + s.status() + ": " + s.failure());
            }
        }
    }

    /** Prints each newly committed round until the session ends. */
    static TrainingSession.State follow(FerryNode node, String sessionId, Duration t) {
        int printed = 0;
        while (true) {
            TrainingSession.State s = await(Asks.ask(node.services().session(sessionId),
                    TrainingSession.Get::new, t, node.system().scheduler()), "read session");
            for (; printed < s.history().size(); printed++) {
                RoundMetrics m = s.history().get(printed);
                System.out.printf("round %d/%d  loss %.4f  test-acc %.4f  time %.1fs  up %.1f MB  down %.1f MB"
                                + "  devices %d%s%n", m.round(), s.spec().rounds(), m.trainLoss(), m.testAccuracy(),
                        m.seconds(), m.bytesUp() / 1e6, m.bytesDown() / 1e6, m.participants(),
                        m.failures().isEmpty() ? "" : "  left out: " + m.failures());
                if (s.plan() != null) {
                    System.out.printf("  training %.1fs (predicted %.1fs at cut %d); step %.3fs (predicted %.4fs)%n",
                            m.trainSeconds(), m.predictedSeconds(), s.plan().cut(), m.measuredStepSeconds(),
                            m.predictedStepSeconds());
                }
                for (MoveRecord mv : m.moves()) {
                    System.out.println(mv.error() != null
                            ? String.format("  move of %s to %s refused: %s", mv.device(), mv.toEdge(), mv.error())
                            : String.format("  %s moved %s -> %s at batch %d (%s): %.0f ms to the first batch on "
                                    + "%s, %.1f MB of edge state moved", mv.device(), mv.fromEdge(), mv.toEdge(),
                                    mv.atBatch(), mv.mode().name().toLowerCase(), mv.millis(), mv.toEdge(),
                                    mv.bytesMoved() / 1e6));
                }
            }
            if (s.status() == TrainingSession.Status.FINISHED || s.status() == TrainingSession.Status.FAILED
                    || s.status() == TrainingSession.Status.STOPPED) {
                return s;
            }
            sleep(500);
        }
    }

    static void summarize(TrainingSession.State s, double seconds) {
        if (s.status() == TrainingSession.Status.FAILED) {
            System.out.println("session " + s.sessionId() + " FAILED: " + s.failure());
            return;
        }
        double acc = s.history().isEmpty() ? 0 : s.history().get(s.history().size() - 1).testAccuracy();
        long up = s.history().stream().mapToLong(RoundMetrics::bytesUp).sum();
        long down = s.history().stream().mapToLong(RoundMetrics::bytesDown).sum();
        System.out.printf("done: session %s, %d round(s), final test accuracy %.4f, %.1f MB up, %.1f MB down, "
                + "%.1fs in this run%n", s.sessionId(), s.history().size(), acc, up / 1e6, down / 1e6, seconds);
    }

    static void writeReport(Path file, TrainingSession.State s, FerryConfig.Journal journal, double seconds) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("job", "session");
        out.put("finished", Instant.now().toString());
        out.put("session", s.sessionId());
        out.put("status", s.status().name());
        out.put("journal", journal.name().toLowerCase());
        out.put("spec", s.spec());
        out.put("global_model", s.global());
        out.put("rounds", s.history());
        out.put("seconds_this_run", seconds);
        Json.write(file, out);
        System.out.println("report written to " + file.toAbsolutePath());
    }

    /** The last session this machine ran, if it did not finish; otherwise a new id. */
    static String resumableOrNew() {
        try {
            if (Files.exists(LAST_SESSION)) {
                String[] last = Files.readString(LAST_SESSION).trim().split(" ");
                if (last.length == 2 && last[1].equals("running")) {
                    System.out.println("resuming unfinished session '" + last[0] + "'");
                    return last[0];
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "s-" + Instant.now().toString().replaceAll("[^0-9]", "").substring(0, 14);
    }

    static void mark(String sessionId, String status) {
        try {
            Files.createDirectories(LAST_SESSION.getParent());
            Files.writeString(LAST_SESSION, sessionId + " " + status + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> T await(CompletionStage<T> f, String what) {
        try {
            return f.toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(what + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(what + ": no answer within 120 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
