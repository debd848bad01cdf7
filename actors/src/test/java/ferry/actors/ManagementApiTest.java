package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.ops.Asks;
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
        // dev-3: a device whose battery (2 J) cannot pay for a round of VGG-5 on its 200 samples
        DataPartition p = DataPartition.iid(DatasetRegistry.FASHION_MNIST, 3, 2, 5, 600);
        Asks.ack(node.services().device("dev-3"), r -> new Device.Register(new DeviceProfile(5e9, 50e6, 2), p, r),
                SessionIntegrationTest.T, node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        Asks.ack(node.services().device("dev-3"), r -> new Device.AttachTo("edge-1", r),
                SessionIntegrationTest.T, node.system().scheduler()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        binding = ManagementApi.bind(node).toCompletableFuture().get(30, TimeUnit.SECONDS);
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

    static JsonNode awaitEnd(String id) throws Exception {
        JsonNode task = null;
        for (int i = 0; i < 1500; i++) {
            task = JSON.readTree(get("/tasks/" + id).body());
            String status = task.path("status").asText();
            if (status.equals("FINISHED") || status.equals("FAILED") || status.equals("STOPPED")) {
                return task;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("task " + id + " did not end: " + task);
    }

    @Test
    void anAutoTaskIsPlannedRoundByRoundByBatteryAndTheBatteriesDrain() throws Exception {
        double before = JSON.readTree(get("/devices/dev-2").body()).path("batteryJoules").asDouble();
        HttpResponse<String> r = post("/tasks", """
                {"devices": ["dev-1", "dev-2", "dev-3"], "algorithm": "auto", "rounds": 2, "batteryThreshold": 0.1,
                 "deadlineSeconds": 600, "batch": 50, "learningRate": 0.05, "testSamples": 500}""", TOKEN);
        assertEquals(202, r.statusCode(), r.body());
        JsonNode task = awaitEnd(JSON.readTree(r.body()).path("taskId").asText());
        assertEquals("FINISHED", task.path("status").asText(), task.toString());
        JsonNode plans = task.path("roundPlans");
        assertEquals(2, plans.size(), "one plan per round");
        for (JsonNode plan : plans) {
            for (JsonNode d : plan.path("devices")) {
                String id = d.path("deviceId").asText();
                assertTrue(!d.path("reason").asText().isBlank(), "every decision has a reason: " + d);
                if (id.equals("dev-3")) {
                    assertTrue(!d.path("participates").asBoolean(), "2 J cannot pay for a round: " + d);
                    assertTrue(d.path("reason").asText().contains("J left"), d.toString());
                } else {
                    assertTrue(d.path("participates").asBoolean(), d.toString());
                    assertTrue(d.path("predictedJoules").asDouble() > 0, d.toString());
                }
            }
        }
        assertEquals(2, task.path("history").get(1).path("participants").asInt());
        // the plan of round 2 saw the battery round 1 left
        double planned1 = plans.get(0).path("devices").get(1).path("batteryJoules").asDouble();
        double planned2 = plans.get(1).path("devices").get(1).path("batteryJoules").asDouble();
        assertTrue(planned2 < planned1, planned1 + " -> " + planned2);
        double after = JSON.readTree(get("/devices/dev-2").body()).path("batteryJoules").asDouble();
        assertTrue(after < before && after > 0, before + " J -> " + after + " J");
        assertEquals(2.0, JSON.readTree(get("/devices/dev-3").body()).path("batteryJoules").asDouble(), 1e-12,
                "a device that never trained spent nothing");
    }

    @Test
    void aSelectedTaskTrainsOnItsShareOfEachDevicesSamplesOnly() throws Exception {
        String full = JSON.readTree(post("/tasks", """
                {"devices": ["dev-1"], "algorithm": "splitfed", "rounds": 1, "testSamples": 200}""", TOKEN).body())
                .path("taskId").asText();
        JsonNode f = awaitEnd(full);
        String picked = JSON.readTree(post("/tasks", """
                {"devices": ["dev-1"], "algorithm": "splitfed", "rounds": 1, "testSamples": 200,
                 "selection": {"selector": "centroid", "fraction": 0.3}}""", TOKEN).body()).path("taskId").asText();
        JsonNode p = awaitEnd(picked);
        assertEquals("FINISHED", p.path("status").asText(), p.toString());
        double up = p.path("history").get(0).path("bytesUp").asDouble();
        double upFull = f.path("history").get(0).path("bytesUp").asDouble();
        // 60 of dev-1's 200 samples: activations sent for 30 % of them (batch headers aside)
        assertEquals(0.3, up / upFull, 0.02, up + " vs " + upFull + " bytes up");
    }

    @Test
    void operatorsListStopAndWatchSessionsAndMoveDevices() throws Exception {
        HttpResponse<String> r = post("/tasks", """
                {"devices": ["dev-2"], "algorithm": "splitfed", "rounds": 50, "testSamples": 200}""", TOKEN);
        assertEquals(202, r.statusCode(), r.body());
        String id = JSON.readTree(r.body()).path("taskId").asText();
        for (int i = 0; i < 300 && JSON.readTree(get("/tasks/" + id).body()).path("history").size() < 1; i++) {
            Thread.sleep(100);
        }
        assertRefused(401, "Authorization", post("/sessions/" + id + "/stop", "", null));
        HttpResponse<String> stopped = post("/sessions/" + id + "/stop", "", TOKEN);
        assertEquals(200, stopped.statusCode(), stopped.body());
        JsonNode s = awaitEnd(id);
        assertEquals("STOPPED", s.path("status").asText(), s.toString());
        assertTrue(s.path("history").size() < 50, "stopped before its budget");
        assertRefused(409, "stopped already", post("/sessions/" + id + "/stop", "", TOKEN));
        assertRefused(404, "no session 'nobody'", post("/sessions/nobody/stop", "", TOKEN));

        JsonNode list = JSON.readTree(get("/sessions").body());
        boolean listed = false;
        for (JsonNode e : list) {
            listed |= e.path("id").asText().equals(id) && e.path("status").asText().equals("STOPPED");
        }
        assertTrue(listed, list.toString());

        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("# TYPE ferry_batch_seconds histogram"), metrics);
        assertTrue(metric(metrics, "ferry_rounds_committed_total") >= 1, metrics);
        assertTrue(metric(metrics, "ferry_batch_seconds_count") > 0, metrics);
        assertTrue(metric(metrics, "ferry_journal_lag_seconds") >= 0, metrics);
        assertEquals(200, get("/ready").statusCode());

        assertRefused(404, "no device 'ghost'", post("/devices/ghost/move", "{\"edge\": \"edge-2\"}", TOKEN));
        assertRefused(400, "edge", post("/devices/dev-1/move", "{\"to\": \"edge-2\"}", TOKEN));
        assertRefused(409, "edge-7", post("/devices/dev-1/move", "{\"edge\": \"edge-7\"}", TOKEN));
        HttpResponse<String> moved = post("/devices/dev-1/move", "{\"edge\": \"edge-2\"}", TOKEN);
        assertEquals(200, moved.statusCode(), moved.body());
        assertEquals("edge-2", JSON.readTree(get("/devices/dev-1").body()).path("edgeId").asText());
        assertTrue(JSON.readTree(get("/edges/edge-2").body()).path("devices").toString().contains("dev-1"));
        assertRefused(404, "no edge 'edge-7'", get("/edges/edge-7"));
        HttpResponse<String> back = post("/devices/dev-1/move", "{\"edge\": \"edge-1\"}", TOKEN);
        assertEquals(200, back.statusCode(), back.body());
    }

    static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " not in " + text);
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
        assertRefused(400, "unknown data selector 'psychic'", post("/tasks",
                "{\"devices\": [\"dev-1\"], \"selection\": {\"selector\": \"psychic\", \"fraction\": 0.3}}",
                TOKEN));
        assertRefused(400, "fraction", post("/tasks",
                "{\"devices\": [\"dev-1\"], \"selection\": {\"selector\": \"random\", \"fraction\": 1.5}}",
                TOKEN));
        assertRefused(400, "cut 9", post("/tasks", "{\"devices\": [\"dev-1\"], \"cut\": 9}", TOKEN));
        assertRefused(401, "Authorization", post("/tasks", "{\"devices\": [\"dev-1\"]}", null));
        assertRefused(401, "wrong token", post("/tasks", "{\"devices\": [\"dev-1\"]}", "guess"));
        assertRefused(404, "no task 'task-nothere'", get("/tasks/task-nothere"));
        assertRefused(404, "no device 'ghost'", get("/devices/ghost"));
        assertEquals(404, get("/nowhere").statusCode());
        assertRefused(413, "", post("/tasks", "{\"devices\": [\"" + "x".repeat(70_000) + "\"]}", TOKEN));

        assertRefused(400, "'edge'", post("/devices", "{\"id\": \"dev-9\"}", TOKEN));
        assertRefused(400, "device profile", post("/devices",
                "{\"id\": \"dev-9\", \"edge\": \"edge-1\", \"flops\": -1}", TOKEN));
        assertRefused(400, "edge 'edge-9' is not registered", post("/devices",
                "{\"id\": \"dev-9\", \"edge\": \"edge-9\", \"parts\": 10, \"index\": 9}", TOKEN));
        assertRefused(401, "Authorization", post("/devices", "{\"id\": \"dev-9\", \"edge\": \"edge-1\"}",
                null));
        HttpResponse<String> made = post("/devices", "{\"id\": \"dev-8\", \"edge\": \"edge-2\", "
                + "\"parts\": 100, \"index\": 7, \"batteryJoules\": 500}", TOKEN);
        assertEquals(201, made.statusCode(), made.body());
        JsonNode dev8 = JSON.readTree(get("/devices/dev-8").body());
        assertEquals("edge-2", dev8.path("edgeId").asText());
        assertEquals(500, dev8.path("batteryJoules").asDouble(), 0);

        assertEquals(200, get("/health").statusCode(), "still serving");
        HttpResponse<String> dev = get("/devices/dev-1");
        assertEquals(200, dev.statusCode());
        assertEquals("edge-1", JSON.readTree(dev.body()).path("edgeId").asText());
    }

    /** pekko-management's cluster routes are mounted: members and shards can be read; changing needs the token. */
    @Test
    void theClusterRoutesShowMembersAndShardsAndGuardMembershipChanges() throws Exception {
        HttpResponse<String> members = get("/cluster/members");
        assertEquals(200, members.statusCode(), members.body());
        JsonNode m = JSON.readTree(members.body());
        String self = node.address().toString();
        assertEquals(self, m.path("selfNode").asText(), m.toString());
        assertEquals("Up", m.path("members").get(0).path("status").asText(), m.toString());
        assertTrue(m.path("members").get(0).path("roles").toString().contains("control"), m.toString());

        HttpResponse<String> shards = get("/cluster/shards/Device");
        assertEquals(200, shards.statusCode(), shards.body());
        assertTrue(JSON.readTree(shards.body()).path("regions").size() >= 1, shards.body());

        HttpRequest leave = HttpRequest.newBuilder(uri("/cluster/members/" + self))
                .PUT(HttpRequest.BodyPublishers.ofString("operation=Leave"))
                .header("Content-Type", "application/x-www-form-urlencoded").build();
        HttpResponse<String> refused = HTTP.send(leave, HttpResponse.BodyHandlers.ofString());
        assertRefused(401, "Authorization", refused);
        HttpRequest bogus = HttpRequest.newBuilder(uri("/cluster/members/" + self))
                .PUT(HttpRequest.BodyPublishers.ofString("operation=Explode"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", "Bearer " + TOKEN).build();
        HttpResponse<String> bad = HTTP.send(bogus, HttpResponse.BodyHandlers.ofString());
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("Up", JSON.readTree(get("/cluster/members").body()).path("members").get(0).path("status")
                .asText(), "the node is still a member after the refused changes");
    }
}
