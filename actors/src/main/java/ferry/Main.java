package ferry;

import ferry.bench.Benchmarks;
import ferry.ops.Args;
import ferry.ops.ChaosCommand;
import ferry.ops.DeviceCommand;
import ferry.ops.NodeCommand;
import ferry.ops.SessionJob;
import ferry.ops.TaskCommand;
import ferry.ops.SplitTrainingJob;
import ferry.zoo.data.DatasetException;

/** Ferry's command line: {@code train} runs the main job, {@code bench NAME} one benchmark. */
public final class Main {
    static final String USAGE = """
            usage: ferry <command> [options]
              run   [--algorithm splitfed|fedavg|psl|epsl|sl] [--rounds N] [--devices N] [--edges N]
                    [--samples-per-device N] [--batch N] [--cut N] [--lr X] [--seed N]
                    [--journal h2|postgres] [--session ID] [--timeout SECONDS] [--report FILE]
                    [--migration fedfly|restart] [--move-round N] [--move-at F]
                    [--phi F] [--planning fixed|optimised]   (psl/epsl: aggregated share, layout)
                    the main job: a one-node cluster, edges, devices and a training session; resumes an
                    unfinished session after a crash
              node  [--port N] [--host H] [--seeds host:port,...] [--roles edge,...] [--edges id,...]
                    [--capacity N] [--journal postgres|h2] [--http-port N]
                    [--grpc-port N --grpc-cert PEM --grpc-key PEM | --grpc-plaintext true] [--grpc-host H]
                    [--grpc-advertise HOST:PORT]
                    one cluster node hosting edge servers, until stopped; with --grpc-port it serves real
                    devices over gRPC (TLS; FERRY_GRPC_*); with --http-port (or
                    FERRY_HTTP_PORT) and the control role it serves the management API (POST /tasks ...);
                    unset options come from FERRY_PORT, FERRY_HOST, FERRY_SEED_NODES, FERRY_ROLES,
                    FERRY_EDGES, FERRY_CAPACITY, FERRY_JOURNAL; exits 1 if the cluster downs it
              chaos [--kills 20] [--seed N] [--edges 3] [--devices 3] [--samples N] [--rounds N] [--band 0.02]
                    kill -9 edge JVMs at seeded random moments during a session on a loopback cluster (scratch
                    PostgreSQL), restart them, verify completion, exactly-once batches and accuracy
              task  submit (--file TASK.json | --json '{...}') | get --id ID | wait --id ID
                    [--url http://127.0.0.1:8080] [--token T]
                    learning tasks through a node's management API (see README)
              train [--model vgg5|resnet8|mlp] [--epochs N] [--batch N] [--cut N] [--lr X] [--seed N]
                    [--samples N] [--data DIR] [--report FILE]
                    split training on Fashion-MNIST with a progress line per epoch and the test accuracy
              device --edge HOST:PORT --device ID --token T (--ca CA.pem | --plaintext true) --data DIR
                    [--rounds N] [--wait SECONDS] [--attach EDGE] [--retry SECONDS]
                    a real device outside the cluster: trains its half from a local data directory against a
                    running edge over gRPC, a line per round, following migrations (see README, "Real devices")
              device export-data --out DIR [--parts N] [--index I] [--seed S] [--pool N]
                    writes a Fashion-MNIST slice (a simulated device's partition) as a device's data directory
              bench NAME [--option value ...]
                    one benchmark; its last output line is a JSON object. Names: %s
            """;

    private Main() {}

    public static void main(String[] argv) throws InterruptedException {
        try {
            if (argv.length == 0) {
                throw new Args.UsageException("no command given");
            }
            switch (argv[0]) {
                case "run" -> SessionJob.run(new Args(argv, 1, SessionJob.OPTIONS));
                case "train" -> SplitTrainingJob.run(new Args(argv, 1, SplitTrainingJob.OPTIONS));
                case "node" -> NodeCommand.run(new Args(argv, 1, NodeCommand.OPTIONS));
                case "bench" -> {
                    if (argv.length < 2) {
                        throw new Args.UsageException("bench needs a benchmark name");
                    }
                    Benchmarks.run(argv[1], argv);
                }
                case "device" -> {
                    if (argv.length > 1 && argv[1].equals("export-data")) {
                        DeviceCommand.exportData(new Args(argv, 2, DeviceCommand.EXPORT_OPTIONS));
                    } else {
                        System.exit(DeviceCommand.run(new Args(argv, 1, DeviceCommand.OPTIONS)));
                    }
                }
                case "chaos" -> System.exit(ChaosCommand.run(new Args(argv, 1, ChaosCommand.OPTIONS)));
                case "task" -> {
                    if (argv.length < 2) {
                        throw new Args.UsageException("task needs submit, get or wait");
                    }
                    System.exit(TaskCommand.run(argv[1], new Args(argv, 2, TaskCommand.OPTIONS)));
                }
                case "help", "--help", "-h" -> System.out.printf(USAGE, Benchmarks.names());
                default -> throw new Args.UsageException("unknown command '" + argv[0] + "'");
            }
            System.exit(0);
        } catch (Args.UsageException e) {
            System.err.println("ferry: " + e.getMessage());
            System.err.printf(USAGE, Benchmarks.names());
            System.exit(2);
        } catch (DatasetException e) {
            System.err.println("ferry: dataset problem: " + e.getMessage());
            System.err.println("  (Fashion-MNIST comes from Debian's dataset-fashion-mnist; ops/setup installs it)");
            System.exit(3);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            System.err.println("ferry: " + e.getMessage());
            System.exit(1);
        }
    }
}
