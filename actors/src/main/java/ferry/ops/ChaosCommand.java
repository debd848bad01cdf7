package ferry.ops;

import java.util.Set;

/**
 * {@code ferry chaos}: kill -9 edge JVMs at seeded random moments during a session, restart them, and verify:
 * the session completed, no batch of a committed round was lost or trained twice, and the accuracy is within
 * {@code --band} of an undisturbed run. Exit status 0 when all hold.
 */
public final class ChaosCommand {
    public static final Set<String> OPTIONS = Set.of("kills", "seed", "edges", "devices", "samples", "batch",
            "rounds", "band");

    private ChaosCommand() {}

    public static int run(Args a) throws Exception {
        int kills = a.integer("kills", 20, 1, 1000);
        Chaos.Options o = new Chaos.Options(a.integer("edges", 3, 2, 16), a.integer("devices", 3, 1, 64),
                a.integer("samples", 400, 20, 10_000), a.integer("batch", 20, 1, 1000),
                a.integer("rounds", kills * 10 + 2, 1, 100_000), kills, a.integer("seed", 1, 0, Integer.MAX_VALUE),
                true, false);
        double band = a.real("band", 0.02);
        Chaos.Outcome out = Chaos.run(o);
        double[] mm = Chaos.medianMax(out.kills());
        boolean accurate = out.sameModelAsReference() || Math.abs(out.accuracy() - out.referenceAccuracy()) <= band;
        boolean ok = out.status().equals("FINISHED") && out.kills().size() == kills && out.lostBatches() == 0
                && out.duplicateBatches() == 0 && accurate;
        System.out.printf("chaos: %d kill(s), failover median %.2f s, max %.2f s; session %s after %d round(s); "
                        + "%d lost and %d duplicate batch(es); accuracy %.4f vs %.4f undisturbed (%s); %.0f s%n",
                out.kills().size(), mm[0], mm[1], out.status().toLowerCase(), out.rounds(), out.lostBatches(),
                out.duplicateBatches(), out.accuracy(), out.referenceAccuracy(),
                out.sameModelAsReference() ? "the same model" : "band " + band, out.seconds());
        System.out.println(ok ? "chaos: PASSED" : "chaos: FAILED");
        return ok ? 0 : 1;
    }
}
