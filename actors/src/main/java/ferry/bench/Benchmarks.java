package ferry.bench;

import ferry.ops.Args;
import ferry.ops.Json;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * {@code ops/bench NAME}: runs one benchmark, which may print progress, and prints its result as one JSON object
 * on the last line. Speed goals live here, never in unit tests.
 */
public final class Benchmarks {
    /** A benchmark: its options, and how to run it into a flat map of result keys. */
    record Entry(Set<String> options, Function<Args, Map<String, Object>> run) {}

    private static final Map<String, Entry> ALL = new TreeMap<>(Map.of(
            "split-step", new Entry(SplitStepBench.OPTIONS, SplitStepBench::run),
            "accuracy", new Entry(AccuracyBench.OPTIONS, AccuracyBench::run)));

    private Benchmarks() {}

    public static String names() {
        return String.join(", ", ALL.keySet());
    }

    public static void run(String name, String[] argv) {
        Entry e = ALL.get(name);
        if (e == null) {
            throw new Args.UsageException("unknown benchmark '" + name + "'; known: " + names());
        }
        Map<String, Object> result = e.run().apply(new Args(argv, 2, e.options()));
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("bench", name);
        out.putAll(result);
        System.out.println(Json.line(out));
    }
}
