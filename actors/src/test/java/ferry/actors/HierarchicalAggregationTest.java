package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.RoundMetrics;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.TestBackend;
import ferry.zoo.train.NamedTensor;
import com.fasterxml.jackson.databind.ObjectMapper;
import ferry.http.ManagementApi;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import java.util.List;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hierarchical FedAvg across roles: two ActorSystems on loopback, one with the control and edge roles, one with
 * the cloud role only. Each edge averages its devices on the edge's node, the cloud node averages the edges, and
 * the model equals the flat average the session computes when no cloud node is up.
 */
class HierarchicalAggregationTest {
    @TempDir
    Path tmp;

    static Config roles(String... roles) {
        return ConfigFactory.parseString("pekko.cluster.roles = [" + String.join(",", List.of(roles).stream()
                .map(r -> "\"" + r + "\"").toList()) + "]");
    }

    @Test
    void edgesAverageTheirDevicesAndTheCloudNodeAveragesTheEdges() throws Exception {
        try (TestBackend backend = TestBackend.open(Journal.H2, tmp)) {
            Config base = SessionIntegrationTest.nodeConfig(backend);
            FerryNode control = FerryNode.start("hier", roles("control", "edge").withFallback(base),
                    EntityTestSupport.DATASETS);
            try {
                SessionIntegrationTest.setUp(control, 4, 200); // dev-1, dev-3 on edge-1; dev-2, dev-4 on edge-2
                SessionSpec spec = new SessionSpec("fedavg", "vgg5", DatasetRegistry.FASHION_MNIST,
                        List.of("dev-1", "dev-2", "dev-3", "dev-4"), 1, 4, 50, 1, 0.05f, 1, 500, 120);

                SessionIntegrationTest.create(control, "flat", spec);
                TrainingSession.State flat = SessionIntegrationTest.awaitEnd(control, "flat");
                assertEquals("flat", flat.history().get(0).aggregation(), "no cloud node yet");

                String seed = control.address().toString();
                FerryNode cloud = FerryNode.start("hier", ConfigFactory.parseString(
                                "pekko.cluster.seed-nodes = [\"" + seed + "\"]").withFallback(roles("cloud"))
                        .withFallback(base), EntityTestSupport.DATASETS);
                try {
                    awaitUp(control, 2);
                    SessionIntegrationTest.create(control, "hier", spec);
                    TrainingSession.State hier = SessionIntegrationTest.awaitEnd(control, "hier");
                    assertEquals(TrainingSession.Status.FINISHED, hier.status(), hier.failure());
                    RoundMetrics m = hier.history().get(0);
                    assertTrue(m.aggregation().startsWith("hierarchical: 2 edge(s) [edge-1, edge-2]"),
                            m.aggregation());
                    assertTrue(m.aggregation().endsWith(cloud.address().toString()), "averaged on the cloud node: "
                            + m.aggregation());
                    double diff = maxAbsDiff(ModelBlobs.getWeights(control.services().blobs(), flat.global()),
                            ModelBlobs.getWeights(control.services().blobs(), hier.global()));
                    System.out.printf("hierarchical vs flat FedAvg: max |diff| = %.3g%n", diff);
                    assertTrue(diff <= 1e-6, "edge-then-cloud averaging is the flat average: " + diff);
                    assertEquals(flat.history().get(0).testAccuracy(), m.testAccuracy(), 0.002);

                    // The same cluster end to end over HTTP: an "auto" task, planned by battery, averaged by
                    // the edges and the cloud node.
                    ServerBinding http = ManagementApi.bind(control,
                            ConfigFactory.parseString("ferry.http.port = 0").withFallback(base))
                            .toCompletableFuture().get(30, TimeUnit.SECONDS);
                    try {
                        HttpClient client = HttpClient.newHttpClient();
                        String url = "http://127.0.0.1:" + http.localAddress().getPort();
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url + "/tasks"))
                                .POST(HttpRequest.BodyPublishers.ofString("{\"devices\": [\"dev-1\", \"dev-2\","
                                        + " \"dev-3\", \"dev-4\"], \"algorithm\": \"auto\", \"rounds\": 1,"
                                        + " \"batteryThreshold\": 0.1, \"testSamples\": 500}")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertEquals(202, r.statusCode(), r.body());
                        String id = new ObjectMapper().readTree(r.body()).path("taskId").asText();
                        TrainingSession.State auto = SessionIntegrationTest.awaitEnd(control, id);
                        assertEquals(TrainingSession.Status.FINISHED, auto.status(), auto.failure());
                        assertEquals(1, auto.roundPlans().size());
                        assertTrue(auto.history().get(0).aggregation().endsWith(cloud.address().toString()),
                                auto.history().get(0).aggregation());
                    } finally {
                        http.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    }
                } finally {
                    cloud.close();
                }
            } finally {
                control.close();
            }
        }
    }

    static void awaitUp(FerryNode node, int members) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            long up = java.util.stream.StreamSupport.stream(Cluster.get(node.system()).state().getMembers()
                    .spliterator(), false).filter(m -> m.status() == MemberStatus.up()).count();
            if (up >= members) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the cloud node did not join");
    }

    static double maxAbsDiff(List<NamedTensor> a, List<NamedTensor> b) {
        assertEquals(a.size(), b.size());
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            float[] x = a.get(i).tensor().data();
            float[] y = b.get(i).tensor().data();
            for (int j = 0; j < x.length; j++) {
                max = Math.max(max, Math.abs(x[j] - y[j]));
            }
        }
        return max;
    }
}
