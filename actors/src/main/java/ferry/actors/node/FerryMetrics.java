package ferry.actors.node;

import java.util.concurrent.atomic.LongAdder;

/**
 * This node's counters, in Prometheus' text format at {@code GET /metrics}: what an operator watches on a lab
 * cluster. Plain adders, not a metrics library: a scrape renders a handful of numbers, and nothing on the
 * training path does more than an increment.
 */
public final class FerryMetrics {
    /** Batch latency buckets, in seconds: a split step here takes tens to hundreds of milliseconds. */
    private static final double[] BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

    private final LongAdder rounds = new LongAdder();
    private final LongAdder roundsFailed = new LongAdder();
    private final LongAdder batches = new LongAdder();
    private final LongAdder[] batchBuckets = new LongAdder[BUCKETS.length];
    private final LongAdder batchMicros = new LongAdder();
    private final LongAdder bytesUp = new LongAdder();
    private final LongAdder bytesDown = new LongAdder();
    private final LongAdder migrations = new LongAdder();
    private final LongAdder failovers = new LongAdder();
    private final LongAdder fenced = new LongAdder();

    public FerryMetrics() {
        for (int i = 0; i < BUCKETS.length; i++) {
            batchBuckets[i] = new LongAdder();
        }
    }

    /**
     * When each device last finished a step (System.nanoTime) and on which edge: how the failover benchmark sees a
     * device train again elsewhere after its edge was killed.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, LastStep> lastStep =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** A device's latest finished step: when (System.nanoTime) and on which edge. */
    public record LastStep(long nanos, String edge) {}

    /** One split step of {@code device} trained through both halves on {@code edge}, with its wall time. */
    public void batch(String device, String edge, double millis) {
        lastStep.put(device, new LastStep(System.nanoTime(), edge));
        batches.increment();
        batchMicros.add(Math.round(millis * 1000));
        for (int i = 0; i < BUCKETS.length; i++) {
            if (millis / 1000 <= BUCKETS[i]) {
                batchBuckets[i].increment();
            }
        }
    }

    /** The device's server half on {@code edge} finished its round: progress there, though not a batch. */
    public void progress(String device, String edge) {
        lastStep.put(device, new LastStep(System.nanoTime(), edge));
    }

    /** The device's latest finished step (or round's end) on this node, or null. */
    public LastStep lastStep(String device) {
        return lastStep.get(device);
    }

    /** Split steps completed on this node so far. */
    public long batches() {
        return batches.sum();
    }

    public void roundCommitted(long up, long down) {
        rounds.increment();
        bytesUp.add(up);
        bytesDown.add(down);
    }

    public void roundFailed() {
        roundsFailed.increment();
    }

    public void migration() {
        migrations.increment();
    }

    /** A lost server half rebuilt elsewhere (checkpoint + replay) so the device trains on. */
    public void failover() {
        failovers.increment();
    }

    /** A command or answer of an older attachment epoch refused or dropped: a fenced-off edge's late message. */
    public void fenced() {
        fenced.increment();
    }

    public long fencedCount() {
        return fenced.sum();
    }

    /**
     * The exposition text.
     *
     * @param journalLagSeconds seconds since the journal's newest event (NaN: unknown)
     */
    public String render(double journalLagSeconds) {
        StringBuilder b = new StringBuilder();
        counter(b, "ferry_rounds_committed_total", "Training rounds committed by sessions on this node", rounds);
        counter(b, "ferry_rounds_failed_total", "Sessions that failed a round on this node", roundsFailed);
        counter(b, "ferry_bytes_up_total", "Bytes devices sent in committed rounds", bytesUp);
        counter(b, "ferry_bytes_down_total", "Bytes devices received in committed rounds", bytesDown);
        counter(b, "ferry_migrations_total", "Device moves between edges (FedFly hand-offs and restarts)",
                migrations);
        counter(b, "ferry_failovers_total", "Server halves rebuilt after an edge lost them", failovers);
        counter(b, "ferry_fenced_total", "Late commands or answers of an older attachment epoch, refused or dropped",
                fenced);
        b.append("# HELP ferry_batch_seconds Wall time of one split step (device forward, edge, backward)\n");
        b.append("# TYPE ferry_batch_seconds histogram\n");
        for (int i = 0; i < BUCKETS.length; i++) {
            b.append("ferry_batch_seconds_bucket{le=\"").append(BUCKETS[i]).append("\"} ")
                    .append(batchBuckets[i].sum()).append('\n');
        }
        b.append("ferry_batch_seconds_bucket{le=\"+Inf\"} ").append(batches.sum()).append('\n');
        b.append("ferry_batch_seconds_sum ").append(batchMicros.sum() / 1e6).append('\n');
        b.append("ferry_batch_seconds_count ").append(batches.sum()).append('\n');
        b.append("# HELP ferry_journal_lag_seconds Seconds since the newest event in the journal\n");
        b.append("# TYPE ferry_journal_lag_seconds gauge\n");
        b.append("ferry_journal_lag_seconds ").append(Double.isNaN(journalLagSeconds) ? "NaN"
                : String.valueOf(journalLagSeconds)).append('\n');
        return b.toString();
    }

    private static void counter(StringBuilder b, String name, String help, LongAdder v) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" counter\n");
        b.append(name).append(' ').append(v.sum()).append('\n');
    }
}
