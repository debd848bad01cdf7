package ferry.ops;

import com.typesafe.config.ConfigFactory;
import ferry.actors.device.DataPartition;
import ferry.actors.node.DatasetRegistry;
import ferry.device.DeviceTrainer;
import ferry.device.EdgeConnection;
import ferry.zoo.data.Datasets;
import ferry.zoo.data.IdxWriter;
import ferry.zoo.data.ImageDataset;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * {@code ferry device}: a real device outside the cluster. It trains its half of the model on the samples in a
 * local data directory (IDX files, {@code train-images-idx3-ubyte} and {@code train-labels-idx1-ubyte}) against
 * a running edge over gRPC, a line per round, following its edge when it is moved. {@code ferry device
 * export-data} writes such a directory from a slice of Fashion-MNIST, as a simulated device's partition.
 */
public final class DeviceCommand {
    public static final Set<String> OPTIONS = Set.of("edge", "device", "token", "ca", "plaintext", "data", "rounds",
            "wait", "attach", "retry");
    public static final Set<String> EXPORT_OPTIONS = Set.of("out", "parts", "index", "seed", "pool", "dataset");

    private DeviceCommand() {}

    public static int run(Args a) {
        String endpoint = required(a, "edge", "FERRY_DEVICE_EDGE", "the edge's gRPC endpoint, host:port");
        String device = required(a, "device", "FERRY_DEVICE_ID", "the device's id");
        String token = required(a, "token", "FERRY_DEVICE_TOKEN", "the device's token (from its registration)");
        boolean plaintext = Boolean.parseBoolean(a.str("plaintext", "false"));
        String ca = a.str("ca", NodeCommand.env("FERRY_DEVICE_CA", null));
        if (!plaintext && ca == null) {
            throw new Args.UsageException("--ca FILE (the cluster's CA certificate, from ops/gen-certs) is needed, or"
                    + " --plaintext true for an edge that serves without TLS");
        }
        Path dataDir = Path.of(required(a, "data", "FERRY_DEVICE_DATA", "the local data directory (IDX files)"));
        int rounds = a.integer("rounds", 0, 0, 1_000_000);
        Duration wait = Duration.ofSeconds(a.integer("wait", 30, 1, 3600));
        ImageDataset data = Datasets.idx("device-" + device, dataDir, "train");
        System.out.println("device " + device + ": " + data.size() + " local samples from " + dataDir + ", edge at "
                + endpoint + (plaintext ? " (plaintext)" : " (TLS)"));
        // A plain local actor system for the gRPC client: no cluster, no journal.
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ferry-device", ConfigFactory.parseString(
                "pekko.actor.provider = local\npekko.loglevel = WARNING").withFallback(ConfigFactory.defaultReference()));
        EdgeConnection.Credentials creds = new EdgeConnection.Credentials(device, token,
                plaintext ? null : Path.of(ca));
        try (DeviceTrainer t = new DeviceTrainer(system, endpoint, creds, data, m -> System.out.println("  " + m),
                Duration.ofSeconds(a.integer("retry", 60, 1, 3600)))) {
            String attach = a.str("attach", null);
            if (attach != null) {
                t.attach(attach.isEmpty() ? null : attach);
            }
            int done = 0;
            while (rounds == 0 || done < rounds) {
                DeviceTrainer.RoundReport r = t.trainNext(wait);
                if (r == null) {
                    System.out.println("no round within " + wait.toSeconds() + " s; waiting on");
                    continue;
                }
                System.out.println(r.line());
                done++;
            }
            return 0;
        } catch (DeviceTrainer.DeviceException e) {
            System.err.println("ferry device: " + e.getMessage());
            return 1;
        } finally {
            system.terminate();
        }
    }

    /** Writes part {@code index} of {@code parts} of the dataset's first {@code pool} samples as IDX files. */
    public static void exportData(Args a) {
        String dataset = a.str("dataset", DatasetRegistry.FASHION_MNIST);
        if (!dataset.equals(DatasetRegistry.FASHION_MNIST)) {
            throw new Args.UsageException("export-data writes single-channel IDX files: only " + DatasetRegistry
                    .FASHION_MNIST);
        }
        Path out = Path.of(required(a, "out", null, "the directory to write"));
        DataPartition p = DataPartition.iid(dataset, a.integer("parts", 1, 1, 60_000),
                a.integer("index", 0, 0, 59_999), a.integer("seed", 1, 0, Integer.MAX_VALUE),
                a.integer("pool", 0, 0, 60_000));
        int n = write(new DatasetRegistry(), p, out);
        System.out.println("wrote " + n + " samples (part " + p.index() + " of " + p.parts() + ") to " + out
                + "; register the device with \"samples\": " + n);
    }

    /** The samples of a simulated device's partition, in its order, as a device's data directory. */
    public static int write(DatasetRegistry datasets, DataPartition p, Path dir) {
        int[] idx = datasets.partition(p);
        IdxWriter.write(datasets.train(p.dataset()).subset(idx), dir, "train");
        return idx.length;
    }

    private static String required(Args a, String name, String env, String what) {
        String v = a.str(name, env == null ? null : NodeCommand.env(env, null));
        if (v == null || v.isBlank()) {
            throw new Args.UsageException("--" + name + " is needed: " + what);
        }
        return v;
    }
}
