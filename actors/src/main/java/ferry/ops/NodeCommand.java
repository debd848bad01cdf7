package ferry.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.grpc.EdgeGrpcServer;
import ferry.grpc.GrpcSettings;
import ferry.persistence.FerryConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code ferry node}: one cluster node that joins the given seeds and hosts edge servers until it is stopped.
 * It prints {@code ferry node up at ADDRESS hosting [EDGES]} once its edges are registered and pinned to it.
 *
 * <p>Every option may instead come from the environment, so a lab machine's node is described by one env file
 * (cluster-config/nodes/, ops/lab/): a flag wins over its variable, a variable over the default.
 * {@code --host} FERRY_HOST, {@code --port} FERRY_PORT, {@code --seeds} FERRY_SEED_NODES, {@code --roles}
 * FERRY_ROLES, {@code --edges} FERRY_EDGES, {@code --journal} FERRY_JOURNAL, {@code --capacity} FERRY_CAPACITY,
 * {@code --http-port} FERRY_HTTP_PORT (through management.conf), {@code --grpc-port} FERRY_GRPC_PORT and the other
 * {@code --grpc-*} options (through grpc.conf): the device data plane for real devices, with TLS from
 * {@code --grpc-cert} / {@code --grpc-key} unless {@code --grpc-plaintext true}.
 *
 * <p>The command returns when the node's actor system has terminated. Stopped by a signal (SIGTERM: it leaves
 * the cluster first) it exits 0; terminated for any other reason, in practice downed (see ControlPlaneDowning),
 * it fails (exit 1), so a supervisor that restarts failed nodes (systemd's Restart=on-failure)
 * brings it back and it rejoins.
 */
public final class NodeCommand {
    public static final Set<String> OPTIONS = Set.of("port", "host", "seeds", "roles", "journal", "edges",
            "capacity", "name", "http-port", "grpc-port", "grpc-host", "grpc-advertise", "grpc-cert", "grpc-key",
            "grpc-plaintext");
    public static final String READY = "ferry node up at ";
    /** How long one attempt to host an edge may take, and all of them together. */
    private static final Duration HOST_ATTEMPT = Duration.ofSeconds(10);
    private static final Duration HOST_DEADLINE = Duration.ofSeconds(180);

    private NodeCommand() {}

    /** Config for a node: host and port, seed nodes ("host:port,..."), roles, on top of the journal's. */
    public static Config nodeConfig(String name, String host, int port, String seeds, String roles,
                                    FerryConfig.Journal journal) {
        Map<String, Object> m = new HashMap<>();
        m.put("pekko.remote.artery.canonical.hostname", host);
        m.put("pekko.remote.artery.canonical.port", port);
        List<String> seedList = new ArrayList<>();
        for (String s : seeds.split(",")) {
            if (!s.isBlank()) {
                if (!s.trim().matches("[^:/]+:\\d+")) {
                    throw new Args.UsageException("seed '" + s + "' is not host:port");
                }
                seedList.add("pekko://" + name + "@" + s.trim());
            }
        }
        m.put("pekko.cluster.seed-nodes", seedList);
        m.put("pekko.cluster.roles", Arrays.stream(roles.split(",")).map(String::trim).filter(r -> !r.isEmpty())
                .toList());
        return FerryConfig.load(journal, ConfigFactory.parseMap(m));
    }

    public static void run(Args a) throws InterruptedException {
        String name = a.str("name", "ferry");
        FerryConfig.Journal journal = FerryConfig.Journal.parse(a.str("journal", env("FERRY_JOURNAL", "postgres")));
        Config config = nodeConfig(name, a.str("host", env("FERRY_HOST", "127.0.0.1")),
                a.integer("port", envInt("FERRY_PORT", 25520), 0, 65535),
                a.str("seeds", env("FERRY_SEED_NODES", "")), a.str("roles", env("FERRY_ROLES", "edge")), journal);
        List<String> edges = Arrays.stream(a.str("edges", env("FERRY_EDGES", "")).split(",")).map(String::trim)
                .filter(e -> !e.isEmpty()).toList();
        int capacity = a.integer("capacity", envInt("FERRY_CAPACITY", 16), 1, 100_000);
        FerryNode node = FerryNode.start(name, config, new DatasetRegistry());
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean signalled = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signalled.set(true);
            node.close();
            stopped.countDown();
        }));
        String grpcEndpoint = "";
        int grpcPort = a.integer("grpc-port", config.getInt("ferry.grpc.port"), 0, 65535);
        if (grpcPort > 0) {
            Map<String, Object> g = new HashMap<>();
            g.put("ferry.grpc.port", grpcPort);
            putIf(g, "ferry.grpc.host", a.str("grpc-host", null));
            putIf(g, "ferry.grpc.advertise", a.str("grpc-advertise", null));
            putIf(g, "ferry.grpc.cert", a.str("grpc-cert", null));
            putIf(g, "ferry.grpc.key", a.str("grpc-key", null));
            putIf(g, "ferry.grpc.plaintext", a.str("grpc-plaintext", null));
            GrpcSettings settings;
            try {
                settings = GrpcSettings.fromConfig(ConfigFactory.parseMap(g).withFallback(config));
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException(e.getMessage());
            }
            EdgeGrpcServer.Running grpc = SessionJob.await(orTerminated(EdgeGrpcServer.start(node, settings, edges),
                    node), "bind the device gRPC service");
            grpcEndpoint = grpc.endpoint();
            System.out.println("device gRPC service at " + grpcEndpoint + (settings.plaintext() ? " (plaintext)"
                    : " (TLS)") + " for edges " + edges);
        }
        for (String e : edges) {
            hostEdge(node, e, capacity, grpcEndpoint);
        }
        int httpPort = a.integer("http-port", config.getInt("ferry.http.port"), 0, 65535);
        if (httpPort > 0) {
            Config http = ConfigFactory.parseMap(Map.of("ferry.http.port", httpPort));
            var binding = SessionJob.await(orTerminated(ferry.http.ManagementApi.bind(node,
                    http.withFallback(config)), node), "bind the management API");
            System.out.println("management API at http://" + binding.localAddress().getHostString() + ":"
                    + binding.localAddress().getPort() + " (POST /tasks, GET /tasks/ID, GET /health)");
        }
        System.out.println(READY + node.address() + " hosting " + edges);
        System.out.flush();
        node.system().getWhenTerminated().toCompletableFuture().join();
        if (!signalled.get()) { // the shutdown hook closes the pools when Main exits
            throw new IllegalStateException("node " + node.address() + " left the cluster without being stopped "
                    + "(downed: cut off from the control nodes, or quarantined by them); exiting with an error so a supervisor "
                    + "restarts it");
        }
        stopped.await();
    }

    /**
     * Hosts an edge, asking again when an attempt times out. A node restarted on the address of an incarnation
     * that was just removed (a crashed node brought back quickly, by systemd or ops/cluster restart) finds its
     * edge's shard still allocated to the old incarnation's region for pekko.cluster.down-removal-margin (the
     * ferry.downing.stable-after): until then its messages end in dead letters, and only a later
     * attempt reaches the shard's new home. Every step of hosting is idempotent; a refusal is not retried.
     */
    private static void putIf(Map<String, Object> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    private static void hostEdge(FerryNode node, String edge, int capacity, String grpcEndpoint)
            throws InterruptedException {
        long deadline = System.nanoTime() + HOST_DEADLINE.toNanos();
        for (int attempt = 1; ; attempt++) {
            try {
                // Each ask has its own timeout; the wait's own bound is a backstop.
                orTerminated(node.hostEdge(edge, capacity, grpcEndpoint, HOST_ATTEMPT), node).toCompletableFuture()
                        .get(HOST_ATTEMPT.toSeconds() * 5, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof TimeoutException ? e : e.getCause();
                if (cause instanceof CompletionException && cause.getCause() != null) {
                    cause = cause.getCause();
                }
                if (!(cause instanceof TimeoutException) || System.nanoTime() > deadline) {
                    throw new IllegalStateException("host edge " + edge + " failed: " + cause.getMessage(), cause);
                }
                System.err.println("ferry node: hosting " + edge + " got no answer within "
                        + HOST_ATTEMPT.toSeconds() + " s (attempt " + attempt + "); asking again");
            }
        }
    }

    /**
     * {@code f}, or a failure as soon as the node's actor system terminates: a terminated system's scheduler no
     * longer fires ask timeouts, so without this a node that Pekko shut down while starting (its remoting
     * failed, it was downed) would wait for answers that never come instead of exiting at once.
     */
    private static <T> CompletionStage<T> orTerminated(CompletionStage<T> f, FerryNode node) {
        CompletableFuture<T> r = new CompletableFuture<>();
        f.whenComplete((v, e) -> {
            if (e != null) {
                r.completeExceptionally(e);
            } else {
                r.complete(v);
            }
        });
        node.system().getWhenTerminated().whenComplete((d, e) -> r.completeExceptionally(
                new IllegalStateException("the node's actor system terminated before the node was up (see the log "
                        + "above)")));
        return r;
    }

    /** The environment variable if it is set and not blank, else {@code dflt}. */
    static String env(String var, String dflt) {
        String v = System.getenv(var);
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    private static int envInt(String var, int dflt) {
        String v = env(var, null);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new Args.UsageException(var + " must be a whole number, got '" + v + "'");
        }
    }
}
