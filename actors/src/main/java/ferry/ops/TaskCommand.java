package ferry.ops;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code ferry task submit|get|wait}: the management API from the command line. {@code submit} posts a task
 * (JSON from {@code --file} or {@code --json}) and prints the answer; {@code get} prints a task's progress;
 * {@code wait} polls until the task has finished or failed, printing a line per committed round. The exit status
 * is 0 on success, 1 when the API refused the request or the task failed.
 */
public final class TaskCommand {
    public static final Set<String> OPTIONS = Set.of("url", "file", "json", "token", "id");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private TaskCommand() {}

    public static int run(String verb, Args a) throws IOException, InterruptedException {
        String url = a.str("url", "http://127.0.0.1:" + envOr("FERRY_HTTP_PORT", "8080"));
        String token = a.str("token", envOr("FERRY_HTTP_TOKEN", ""));
        switch (verb) {
            case "submit" -> {
                String body = a.str("json", "");
                if (body.isEmpty()) {
                    String file = a.str("file", "");
                    if (file.isEmpty()) {
                        throw new Args.UsageException("task submit needs --file TASK.json or --json '{...}'");
                    }
                    body = Files.readString(Path.of(file));
                }
                HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url + "/tasks"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
                if (!token.isEmpty()) {
                    req.header("Authorization", "Bearer " + token);
                }
                return print(send(req.build(), url));
            }
            case "get" -> {
                return print(send(HttpRequest.newBuilder(URI.create(url + "/tasks/" + id(a))).GET().build(), url));
            }
            case "wait" -> {
                String id = id(a);
                int shown = 0;
                while (true) {
                    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url + "/tasks/" + id)).GET()
                            .build(), url);
                    if (r.statusCode() != 200) {
                        return print(r);
                    }
                    var task = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
                    var history = task.path("history");
                    for (; shown < history.size(); shown++) {
                        var m = history.get(shown);
                        System.out.printf("round %d  loss %.4f  test-acc %.4f  %.1fs  devices %d  %s%n",
                                m.path("round").asInt(), m.path("trainLoss").asDouble(),
                                m.path("testAccuracy").asDouble(), m.path("seconds").asDouble(),
                                m.path("participants").asInt(), m.path("aggregation").asText());
                    }
                    String status = task.path("status").asText();
                    if (status.equals("FINISHED") || status.equals("FAILED") || status.equals("STOPPED")) {
                        System.out.println(id + " " + status.toLowerCase() + ", test accuracy "
                                + task.path("lastTestAccuracy").asDouble()
                                + (task.path("failure").isTextual() ? ": " + task.path("failure").asText() : ""));
                        return status.equals("FINISHED") ? 0 : 1;
                    }
                    Thread.sleep(1000);
                }
            }
            default -> throw new Args.UsageException("task needs submit, get or wait, got '" + verb + "'");
        }
    }

    private static String id(Args a) {
        String id = a.str("id", "");
        if (id.isEmpty()) {
            throw new Args.UsageException("this needs --id TASK-ID");
        }
        return id;
    }

    private static HttpResponse<String> send(HttpRequest r, String url) throws IOException, InterruptedException {
        try {
            return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new Args.UsageException("no management API at " + url + " (start one: ferry node --http-port N)");
        }
    }

    private static int print(HttpResponse<String> r) {
        (r.statusCode() < 300 ? System.out : System.err).println(r.statusCode() + " " + r.body());
        return r.statusCode() < 300 ? 0 : 1;
    }

    private static String envOr(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }
}
