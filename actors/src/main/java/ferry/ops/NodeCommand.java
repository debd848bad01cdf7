package ferry.ops;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.persistence.FerryConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ferry node}: one cluster node that joins the given seeds and hosts edge servers until it is stopped.
 * It prints {@code ferry node up at ADDRESS hosting [EDGES]} once its edges are registered and pinned to it.
 */
public final class NodeCommand {
    public static final Set<String> OPTIONS = Set.of("port", "host", "seeds", "roles", "journal", "edges",
            "capacity", "name", "http-port");
    public static final String READY = "ferry node up at ";

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
        FerryConfig.Journal journal = FerryConfig.Journal.parse(a.str("journal", "postgres"));
        Config config = nodeConfig(name, a.str("host", "127.0.0.1"), a.integer("port", 25520, 0, 65535),
                a.str("seeds", ""), a.str("roles", "edge"), journal);
        List<String> edges = Arrays.stream(a.str("edges", "").split(",")).map(String::trim)
                .filter(e -> !e.isEmpty()).toList();
        int capacity = a.integer("capacity", 16, 1, 100_000);
        FerryNode node = FerryNode.start(name, config, new DatasetRegistry());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }));
        for (String e : edges) {
            SessionJob.await(node.hostEdge(e, capacity, Duration.ofSeconds(60)), "host edge " + e);
        }
        int httpPort = a.integer("http-port", config.getInt("ferry.http.port"), 0, 65535);
        if (httpPort > 0) {
            Config http = ConfigFactory.parseMap(Map.of("ferry.http.port", httpPort));
            var binding = SessionJob.await(ferry.http.ManagementApi.bind(node, http.withFallback(config)), "bind the management API");
            System.out.println("management API at http://" + binding.localAddress().getHostString() + ":"
                    + binding.localAddress().getPort() + " (POST /tasks, GET /tasks/ID, GET /health)");
        }
        System.out.println(READY + node.address() + " hosting " + edges);
        System.out.flush();
        node.system().getWhenTerminated().toCompletableFuture().join();
        stopped.await();
    }
}
