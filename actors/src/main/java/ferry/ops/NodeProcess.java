package ferry.ops;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Ferry node in a JVM of its own on this machine, started with this JVM's class path: for multi-JVM tests and
 * benchmarks on loopback. Its output is kept (and echoed with a prefix) so failures can be read.
 */
public final class NodeProcess implements AutoCloseable {
    private final Process process;
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private final List<String> output = new ArrayList<>();

    private NodeProcess(Process p, String label) {
        this.process = p;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (output) {
                        output.add(line);
                    }
                    if (line.startsWith(NodeCommand.READY)) {
                        ready.complete(line.substring(NodeCommand.READY.length()).split(" ")[0]);
                    } else if (System.getenv("FERRY_NODE_QUIET") == null) {
                        System.out.println("[" + label + "] " + line);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            ready.completeExceptionally(new IllegalStateException(label + " ended before it was up; output: "
                    + tail()));
        }, label + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * A {@code ferry node} JVM on loopback that joins the cluster of {@code seed} (a node's address), shares the
     * PostgreSQL journal at {@code pgUrl} and hosts {@code edge}; {@code quiet} keeps its output out of this
     * process's, {@code settings} are config overrides.
     */
    public static NodeProcess edgeNode(String label, org.apache.pekko.actor.Address seed, String pgUrl, String edge,
                                       int capacity, boolean quiet, Map<String, String> settings) throws IOException {
        List<String> args = List.of("--port", "0", "--seeds", seed.host().get() + ":" + seed.port().get(),
                "--journal", "postgres", "--edges", edge, "--capacity", String.valueOf(capacity));
        return start(label, args, quiet ? Map.of("FERRY_PG_URL", pgUrl, "FERRY_NODE_QUIET", "1")
                : Map.of("FERRY_PG_URL", pgUrl), settings);
    }

    /** Starts {@code ferry node} with the given arguments and environment additions. */
    public static NodeProcess start(String label, List<String> args, Map<String, String> env) throws IOException {
        return start(label, args, env, Map.of());
    }

    /** The same, with configuration settings passed as system properties (they override the config files). */
    public static NodeProcess start(String label, List<String> args, Map<String, String> env,
                                    Map<String, String> settings) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + "/bin/java");
        cmd.add("-Dai.djl.offline=true");
        settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-Xmx2g");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("ferry.Main");
        cmd.add("node");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        return new NodeProcess(pb.start(), label);
    }

    /** Waits until the node is up with its edges; returns its cluster address. */
    public String awaitReady(long seconds) throws Exception {
        return ready.get(seconds, TimeUnit.SECONDS);
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: the node dies as a crashed machine would, with no chance to leave the cluster. */
    public void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * SIGSTOP: the node freezes, as a machine cut off by a partition or stalled by a pause would look to the others;
     * it keeps its state and goes on where it was at {@link #thaw}.
     */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT: a frozen node goes on. */
    public void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String sig) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(process.pid())).inheritIO().start();
        if (k.waitFor() != 0) {
            throw new IOException("kill -" + sig + " " + process.pid() + " failed");
        }
    }

    public String tail() {
        synchronized (output) {
            return String.join("\n", output.subList(Math.max(0, output.size() - 30), output.size()));
        }
    }

    /** SIGTERM and wait: the node leaves the cluster and closes its pools. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
