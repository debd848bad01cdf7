package ferry.bench;

import ferry.ops.Args;
import ferry.ops.Chaos;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Kill → device training again, on a 3-node loopback cluster (this JVM as control node, two edge JVMs, a scratch
 * PostgreSQL database): at least 5 SIGKILLs of the edge JVM the devices train on, each restarted before the
 * next; the failover time of a kill is from the SIGKILL until every device that trained there has finished a step
 * (or its round's end) on the other edge; each kill lands while its devices are training on that edge (mid-round),
 * so the time is the failover's, not a wait between rounds. Lost and duplicate batches come from the devices'
 * batch logs (both must be 0).
 */
final class FailoverBench {
    static final Set<String> OPTIONS = Set.of("kills", "seed", "devices", "samples", "batch", "rounds");

    private FailoverBench() {}

    static Map<String, Object> run(Args a) throws Exception {
        int kills = a.integer("kills", 5, 1, 100);
        Chaos.Options o = new Chaos.Options(2, a.integer("devices", 2, 1, 16), a.integer("samples", 400, 20, 10_000),
                a.integer("batch", 20, 1, 1000), a.integer("rounds", kills * 25 + 2, 1, 10_000), kills,
                a.integer("seed", 1, 0, Integer.MAX_VALUE), true, true);
        Chaos.Outcome out = Chaos.run(o);
        double[] mm = Chaos.medianMax(out.kills());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodes", 3);
        m.put("kills", out.kills().size());
        m.put("failover_s_median", Math.round(mm[0] * 1000) / 1000.0);
        m.put("failover_s_max", Math.round(mm[1] * 1000) / 1000.0);
        m.put("failover_s_each", out.kills().stream().map(k -> Math.round(k.failoverSeconds() * 1000) / 1000.0)
                .toList());
        m.put("lost_batches", out.lostBatches());
        m.put("duplicate_batches", out.duplicateBatches());
        m.put("session", out.status());
        m.put("rounds", out.rounds());
        m.put("accuracy", out.accuracy());
        m.put("accuracy_undisturbed", out.referenceAccuracy());
        m.put("same_model_as_undisturbed", out.sameModelAsReference());
        m.put("seconds", Math.round(out.seconds()));
        return m;
    }
}
