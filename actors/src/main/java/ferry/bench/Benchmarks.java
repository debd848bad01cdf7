package ferry.bench;

import ferry.ops.Args;
import ferry.ops.Json;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code ops/bench NAME}: runs one benchmark, which may print progress, and prints its result as one JSON object
 * on the last line. Speed goals live here, never in unit tests.
 */
public final class Benchmarks {
    /** A benchmark: its options, and how to run it into a flat map of result keys. */
    record Entry(Set<String> options, Bench run) {}

    interface Bench {
        Map<String, Object> apply(Args args) throws Exception;
    }

    private static final Map<String, Entry> ALL = new TreeMap<>(Map.of(
            "split-step", new Entry(SplitStepBench.OPTIONS, SplitStepBench::run),
            "accuracy", new Entry(AccuracyBench.OPTIONS, AccuracyBench::run),
            "actor-step", new Entry(ActorStepBench.OPTIONS, ActorStepBench::run),
            "migration", new Entry(MigrationBench.OPTIONS, MigrationBench::run),
            "mobility", new Entry(MobilityBench.OPTIONS, MobilityBench::run),
            "epsl", new Entry(EpslBench.OPTIONS, EpslBench::run),
            "battery", new Entry(BatteryBench.OPTIONS, BatteryBench::run),
            "failover", new Entry(FailoverBench.OPTIONS, FailoverBench::run),
            "small-data", new Entry(SmallDataBench.OPTIONS, SmallDataBench::run),
            "grpc-step", new Entry(GrpcStepBench.OPTIONS, GrpcStepBench::run)));

    private Benchmarks() {}

    public static String names() {
        return String.join(", ", ALL.keySet());
    }

    public static void run(String name, String[] argv) {
        Entry e = ALL.get(name);
        if (e == null) {
            throw new Args.UsageException("unknown benchmark '" + name + "'; known: " + names());
        }
        Map<String, Object> result;
        try {
            result = e.run().apply(new Args(argv, 2, e.options()));
        } catch (RuntimeException ex) {
            throw ex;
        } catch (Exception ex) {
            throw new IllegalStateException("benchmark " + name + " failed: " + ex, ex);
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("bench", name);
        out.putAll(result);
        System.out.println(Json.line(out));
    }
}
