package ferry.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.edge.EdgeServer;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.persistence.ScratchDatabase;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Chaos on a loopback cluster: this JVM is the control node (sessions, devices; never killed), each edge runs in
 * a JVM of its own on a scratch PostgreSQL database. A session trains while edge JVMs are killed with SIGKILL at
 * seeded random moments and restarted; each kill is timed from the SIGKILL to the moment every device that was
 * training on that edge has finished a step (or its round's end) on another edge (fast failover). Afterwards it checks that the
 * session completed, that in every committed round each device trained each batch exactly once (the devices'
 * batch logs), and the final accuracy against an undisturbed run of the same session.
 */
public final class Chaos {
    /**
     * {@code midRound}: kill only while every device on the chosen edge is training there (a step finished on it in
     * the last half second), so the time measured is the failover itself, not a gap between rounds the devices
     * spend waiting for aggregation and evaluation; otherwise kills land at any moment.
     */
    public record Options(int edges, int devices, int samplesPerDevice, int batch, int rounds, int kills, long seed,
                          boolean reference, boolean midRound) {}

    /** One kill: which edge, how many devices were training on it, how long until all of them trained again. */
    public record Kill(String edge, int devices, double failoverSeconds) {}

    public record Outcome(String status, List<Kill> kills, long lostBatches, long duplicateBatches, int rounds,
                          double accuracy, double referenceAccuracy, boolean sameModelAsReference, double seconds) {}

    private static final Duration T = Duration.ofSeconds(60);

    private Chaos() {}

    public static Outcome run(Options o) throws Exception {
        long start = System.nanoTime();
        Config overrides = ConfigFactory.parseMap(Map.of("pekko.remote.artery.canonical.port", "0",
                "pekko.cluster.roles", List.of("control", "cloud"), "ferry.ask-timeout", "5s",
                "ferry.data-dir", Files.createTempDirectory("ferry-chaos").toString()));
        try (ScratchDatabase db = ScratchDatabase.create(overrides, "ferry_chaos");
             FerryNode control = FerryNode.start("ferry", db.config(), new DatasetRegistry())) {
            org.apache.pekko.actor.Address seed = control.address();
            Map<String, NodeProcess> jvms = new java.util.concurrent.ConcurrentSkipListMap<>();
            try {
                for (int e = 1; e <= o.edges(); e++) {
                    jvms.put("edge-" + e, edgeJvm("edge-" + e, seed, db.url(), o.devices()));
                }
                for (NodeProcess p : jvms.values()) {
                    p.awaitReady(180);
                }
                List<String> devices = new ArrayList<>();
                for (int i = 0; i < o.devices(); i++) {
                    String id = "dev-" + (i + 1);
                    devices.add(id);
                    DataPartition part = DataPartition.iid(DatasetRegistry.FASHION_MNIST, o.devices(), i, o.seed(),
                            o.devices() * o.samplesPerDevice());
                    Asks.ack(control.services().device(id), r -> new Device.Register(DeviceProfile.DEFAULT, part, r),
                            T, control.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
                }
                SessionSpec spec = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, devices,
                        o.rounds(), 4, o.batch(), 1, 0.05f, o.seed(), 1000, 600);
                TrainingSession.State reference = null;
                if (o.reference()) {
                    attachAll(control, devices, o.edges());
                    reference = session(control, "undisturbed", spec);
                    System.out.printf("undisturbed run: %s, accuracy %.4f%n", reference.status(),
                            last(reference).testAccuracy());
                }
                attachAll(control, devices, o.edges());
                Asks.ack(control.services().session("chaos"), r -> new TrainingSession.Create(spec, r), T,
                        control.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
                List<Kill> kills = killAndRestart(control, jvms, o, seed, db.url());
                TrainingSession.State s = awaitEnd(control, "chaos");
                long[] lostDup = verifyBatchLog(control, s, devices, (o.samplesPerDevice() + o.batch() - 1)
                        / o.batch());
                double acc = s.history().isEmpty() ? 0 : last(s).testAccuracy();
                return new Outcome(s.status().name(), kills, lostDup[0], lostDup[1], s.history().size(), acc,
                        reference == null ? Double.NaN : last(reference).testAccuracy(),
                        reference != null && reference.global().equals(s.global()),
                        (System.nanoTime() - start) / 1e9);
            } finally {
                jvms.values().forEach(NodeProcess::close);
            }
        }
    }

    static NodeProcess edgeJvm(String edge, org.apache.pekko.actor.Address seed, String pgUrl, int capacity)
            throws Exception {
        return NodeProcess.edgeNode(edge, seed, pgUrl, edge, capacity, System.getenv("FERRY_CHAOS_VERBOSE") == null,
                Map.of());
    }

    /** Device i on edge (i mod edges) + 1. */
    static void attachAll(FerryNode control, List<String> devices, int edges) throws Exception {
        for (int i = 0; i < devices.size(); i++) {
            String edge = "edge-" + (i % edges + 1);
            Asks.ack(control.services().device(devices.get(i)), r -> new Device.AttachTo(edge, r), T,
                    control.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        }
    }

    /**
     * Kills edge JVMs one at a time, each a seeded 1-4 s after the last one's devices trained again, always an
     * edge that has devices on it while at least one other edge is up; restarts the killed JVM in the background.
     */
    static List<Kill> killAndRestart(FerryNode control, Map<String, NodeProcess> jvms, Options o,
                                     org.apache.pekko.actor.Address seed, String pgUrl) throws Exception {
        SplittableRandom rnd = new SplittableRandom(o.seed());
        List<Kill> kills = new ArrayList<>();
        Map<String, Thread> restarting = new HashMap<>();
        while (kills.size() < o.kills()) {
            Thread.sleep(1000 + rnd.nextInt(3000));
            TrainingSession.State s = get(control, "chaos");
            if (s.status() != TrainingSession.Status.RUNNING) {
                System.out.printf("the session ended after %d kill(s)%n", kills.size());
                break;
            }
            List<String> candidates = new ArrayList<>();
            int up = 0;
            Map<String, List<String>> attached = new HashMap<>();
            for (String edge : jvms.keySet()) {
                if (restarting.containsKey(edge) && restarting.get(edge).isAlive()) {
                    continue;
                }
                up++;
                EdgeServer.State st = Asks.<EdgeServer.Command, EdgeServer.State>ask(control.services().edge(edge),
                        EdgeServer.Get::new, T, control.system().scheduler()).toCompletableFuture()
                        .get(60, TimeUnit.SECONDS);
                attached.put(edge, st.devices());
                if (!st.devices().isEmpty()) {
                    candidates.add(edge);
                }
            }
            if (up < 2 || candidates.isEmpty()) {
                continue; // nowhere to fail over to yet: wait for a restart
            }
            String edge = candidates.get(rnd.nextInt(candidates.size()));
            List<String> affected = attached.get(edge);
            if (o.midRound() && !trainingOn(control, edge, affected, 15)) {
                continue; // its devices are between rounds: choose again
            }
            long killed = System.nanoTime();
            jvms.get(edge).kill();
            double seconds = Double.NaN;
            long deadline = killed + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline) {
                boolean all = true;
                long latest = killed;
                for (String d : affected) {
                    // A step finished on another edge: one the dead edge answered just before it died does not count.
                    var last = control.services().metrics().lastStep(d);
                    boolean again = last != null && last.nanos() > killed && !last.edge().equals(edge);
                    all &= again;
                    latest = Math.max(latest, again ? last.nanos() : killed);
                }
                if (all || get(control, "chaos").status() != TrainingSession.Status.RUNNING) {
                    seconds = all ? (latest - killed) / 1e9 : Double.NaN;
                    break;
                }
                Thread.sleep(20);
            }
            kills.add(new Kill(edge, affected.size(), seconds));
            System.out.printf("kill %d: %s (devices %s) -> training again after %.2f s%n", kills.size(), edge,
                    affected, seconds);
            Thread restart = new Thread(() -> {
                try {
                    NodeProcess p = edgeJvm(edge, seed, pgUrl, o.devices());
                    jvms.put(edge, p);
                    p.awaitReady(180);
                } catch (Exception e) {
                    System.out.println("restart of " + edge + " failed: " + e.getMessage());
                }
            }, "restart-" + edge);
            restarting.put(edge, restart);
            restart.start();
            if (o.edges() < 3) {
                restart.join(); // with two edges the other one must be back before the next kill
            }
        }
        for (Thread t : restarting.values()) {
            t.join(TimeUnit.SECONDS.toMillis(200));
        }
        return kills;
    }

    /** Waits up to {@code seconds} until every device in {@code devices} has just finished a step on {@code edge}. */
    static boolean trainingOn(FerryNode control, String edge, List<String> devices, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            long now = System.nanoTime();
            boolean all = true;
            for (String d : devices) {
                var last = control.services().metrics().lastStep(d);
                all &= last != null && last.edge().equals(edge) && now - last.nanos() < 500_000_000L;
            }
            if (all) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }

    /**
     * {lost, duplicate} batches over every committed round: in the round's committed attempt each device must
     * have logged batches 0..n-1 exactly once.
     */
    static long[] verifyBatchLog(FerryNode node, TrainingSession.State s, List<String> devices, long n)
            throws Exception {
        JdbcReadJournal journal = PersistenceQuery.get(node.system()).getReadJournalFor(JdbcReadJournal.class,
                JdbcReadJournal.Identifier());
        long lost = 0;
        long duplicate = 0;
        for (String d : devices) {
            List<EventEnvelope> events = journal.currentEventsByPersistenceId("Device|" + d, 0, Long.MAX_VALUE)
                    .runWith(Sink.seq(), node.system()).toCompletableFuture().get(60, TimeUnit.SECONDS);
            for (RoundMetrics m : s.history()) {
                Map<Long, Integer> seen = new HashMap<>();
                for (EventEnvelope e : events) {
                    if (e.event() instanceof Device.BatchesDone b && b.sessionId().equals(s.sessionId())
                            && b.round() == m.round() && b.attempt() == m.attempt()) {
                        for (long c = b.from(); c < b.to(); c++) {
                            seen.merge(c, 1, Integer::sum);
                        }
                    }
                }
                if (m.failures().stream().anyMatch(f -> f.startsWith(d + ":"))) {
                    lost += n; // the device's update was left out of this round
                    continue;
                }
                for (long c = 0; c < n; c++) {
                    int times = seen.getOrDefault(c, 0);
                    lost += times == 0 ? 1 : 0;
                    duplicate += Math.max(0, times - 1);
                }
            }
        }
        return new long[] {lost, duplicate};
    }

    static TrainingSession.State session(FerryNode node, String id, SessionSpec spec) throws Exception {
        Asks.ack(node.services().session(id), r -> new TrainingSession.Create(spec, r), T,
                node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        return awaitEnd(node, id);
    }

    public static TrainingSession.State get(FerryNode node, String id) throws Exception {
        return Asks.<TrainingSession.Command, TrainingSession.State>ask(node.services().session(id),
                TrainingSession.Get::new, T, node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** Polls the session every 500 ms until it is no longer new or running, and returns that state. */
    public static TrainingSession.State awaitEnd(FerryNode node, String id) throws Exception {
        while (true) {
            TrainingSession.State s = get(node, id);
            if (s.status() != TrainingSession.Status.RUNNING && s.status() != TrainingSession.Status.NEW) {
                return s;
            }
            Thread.sleep(500);
        }
    }

    static RoundMetrics last(TrainingSession.State s) {
        return s.history().get(s.history().size() - 1);
    }

    /** Median and max of the kills' failover times (kills with no device to fail over are left out). */
    public static double[] medianMax(List<Kill> kills) {
        double[] v = kills.stream().mapToDouble(Kill::failoverSeconds).filter(x -> !Double.isNaN(x)).sorted()
                .toArray();
        if (v.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return new double[] {median, v[v.length - 1]};
    }
}
