package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import ferry.actors.node.FerryNode;
import ferry.http.ManagementApi;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The management HTTP API on a real node: a task submitted over HTTP runs; bad requests get a 4xx and a reason. */
class ManagementApiTest {
    static final String TOKEN = "s3cret";
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    static TestBackend backend;
    static FerryNode node;
    static ServerBinding binding;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.open(Journal.H2, tmp);
        node = FerryNode.start("api", ConfigFactory.parseString("ferry.http.port = 0\nferry.http.token = " + TOKEN)
                .withFallback(SessionIntegrationTest.nodeConfig(backend)), EntityTestSupport.DATASETS);
        SessionIntegrationTest.setUp(node, 2, 200);
        binding = ManagementApi.bind(node.system(), node.services()).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        node.close();
        backend.close();
    }

    static HttpResponse<String> post(String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path);
    }

    static void assertRefused(int status, String fragment, HttpResponse<String> r) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        String error = JSON.readTree(r.body()).path("error").asText();
        assertTrue(error.contains(fragment), "'" + error + "' should mention '" + fragment + "'");
    }

    @Test
    void aTaskSubmittedOverHttpRunsAndStopsAtItsTargetAccuracy() throws Exception {
        HttpResponse<String> r = post("/tasks", """
                {"devices": ["dev-1", "dev-2"], "algorithm": "fedavg", "rounds": 4, "targetAccuracy": 0.05,
                 "batch": 50, "learningRate": 0.05, "testSamples": 500}""", TOKEN);
        assertEquals(202, r.statusCode(), r.body());
        String id = JSON.readTree(r.body()).path("taskId").asText();
        assertTrue(id.startsWith("task-"), id);
        JsonNode task = null;
        for (int i = 0; i < 600; i++) {
            task = JSON.readTree(get("/tasks/" + id).body());
            if (task.path("status").asText().equals("FINISHED") || task.path("status").asText().equals("FAILED")) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals("FINISHED", task.path("status").asText(), task.toString());
        // any trained model beats 5 %: the target ends the task after its first round, not its fourth
        assertEquals(1, task.path("history").size(), task.toString());
        assertTrue(task.path("lastTestAccuracy").asDouble() >= 0.05);
        assertEquals(0.05, task.path("spec").path("options").path("targetAccuracy").asDouble(), 1e-12);
    }

    @Test
    void badRequestsGetA4xxThatSaysWhatIsWrongAndTheNodeKeepsServing() throws Exception {
        assertRefused(400, "not a task in JSON", post("/tasks", "{\"devices\": [\"dev-1\"", TOKEN));
        assertRefused(400, "unknown field 'colour'", post("/tasks", "{\"devices\": [\"dev-1\"], \"colour\": 1}",
                TOKEN));
        assertRefused(400, "'devices'", post("/tasks", "{\"rounds\": 2}", TOKEN));
        assertRefused(400, "rounds must be", post("/tasks", "{\"devices\": [\"dev-1\"], \"rounds\": 0}", TOKEN));
        assertRefused(400, "unknown algorithm 'magic'", post("/tasks",
                "{\"devices\": [\"dev-1\"], \"algorithm\": \"magic\"}", TOKEN));
        assertRefused(400, "target accuracy", post("/tasks",
                "{\"devices\": [\"dev-1\"], \"targetAccuracy\": 7}", TOKEN));
        assertRefused(400, "unknown device(s) [ghost]", post("/tasks",
                "{\"devices\": [\"dev-1\", \"ghost\"]}", TOKEN));
        assertRefused(400, "cut 9", post("/tasks", "{\"devices\": [\"dev-1\"], \"cut\": 9}", TOKEN));
        assertRefused(401, "Authorization", post("/tasks", "{\"devices\": [\"dev-1\"]}", null));
        assertRefused(401, "wrong token", post("/tasks", "{\"devices\": [\"dev-1\"]}", "guess"));
        assertRefused(404, "no task 'task-nothere'", get("/tasks/task-nothere"));
        assertRefused(404, "no device 'ghost'", get("/devices/ghost"));
        assertEquals(404, get("/nowhere").statusCode());
        assertRefused(413, "", post("/tasks", "{\"devices\": [\"" + "x".repeat(70_000) + "\"]}", TOKEN));

        assertEquals(200, get("/health").statusCode(), "still serving");
        HttpResponse<String> dev = get("/devices/dev-1");
        assertEquals(200, dev.statusCode());
        assertEquals("edge-1", JSON.readTree(dev.body()).path("edgeId").asText());
    }
}
