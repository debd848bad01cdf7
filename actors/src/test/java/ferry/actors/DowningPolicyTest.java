package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.node.DowningPolicy;
import ferry.actors.node.DowningPolicy.Seen;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Ferry's downing decisions, case by case, from one node's view (no cluster needed: the policy is pure). */
class DowningPolicyTest {
    static final Duration STABLE = Duration.ofSeconds(10);

    static Seen control(String a, int age) {
        return new Seen(a, true, age, Duration.ZERO, Duration.ZERO);
    }

    static Seen edge(String a, int age) {
        return new Seen(a, false, age, Duration.ZERO, Duration.ZERO);
    }

    static Seen lost(Seen s, int unreachableSeconds, int quietSeconds) {
        return new Seen(s.address(), s.control(), s.age(), Duration.ofSeconds(unreachableSeconds),
                Duration.ofSeconds(quietSeconds));
    }

    static Map<String, Seen> view(Seen... members) {
        Map<String, Seen> m = new LinkedHashMap<>();
        for (Seen s : members) {
            m.put(s.address(), s);
        }
        return m;
    }

    static Set<String> down(String self, Map<String, Seen> view) {
        return new TreeSet<>(DowningPolicy.decide(self, view, STABLE).down());
    }

    /** The chaos case that took Pekko's resolver down whole: edges crashing seconds apart, one having seen the other. */
    @Test
    void twoEdgesThatDiedSecondsApartAreDownedAndTheControlNodeStays() {
        var v = view(control("c", 1), lost(edge("e1", 2), 16, 17), lost(edge("e3", 3), 11, 12), edge("e2", 4));
        assertEquals(Set.of("e1", "e3"), down("c", v));
        // the same view a few seconds earlier: e3 has not been gone for stable-after yet
        var earlier = view(control("c", 1), lost(edge("e1", 2), 12, 13), lost(edge("e3", 3), 7, 8), edge("e2", 4));
        assertEquals(Set.of("e1"), down("c", earlier));
    }

    @Test
    void anEdgeIsDownedOnlyWhenUnreachableAndSilentForStableAfter() {
        assertEquals(Set.of(), down("c", view(control("c", 1), lost(edge("e", 2), 9, 9))), "not yet");
        assertEquals(Set.of(), down("c", view(control("c", 1), lost(edge("e", 2), 0, 30))),
                "silent to the probe alone is a failover matter, not downing");
        assertEquals(Set.of("e"), down("c", view(control("c", 1), lost(edge("e", 2), 10, 10))));
        assertEquals(Set.of("e"), down("c", view(control("c", 1), lost(edge("e", 2), 10, 365 * 86400))),
                "a member whose probe never answered");
    }

    @Test
    void anEdgeOnlyOthersCannotReachIsDownedAfterTwiceStableAfterSoMembershipConverges() {
        assertEquals(Set.of(), down("c", view(control("c", 1), lost(edge("e", 2), 15, 0), edge("f", 3))));
        assertEquals(Set.of("e"), down("c", view(control("c", 1), lost(edge("e", 2), 20, 0), edge("f", 3))));
    }

    @Test
    void theOnlyControlNodeNeverDownsItselfHoweverManyEdgesItLoses() {
        var v = view(control("c", 1), lost(edge("e1", 2), 60, 60), lost(edge("e2", 3), 60, 60),
                lost(edge("e3", 4), 60, 60));
        assertEquals(Set.of("e1", "e2", "e3"), down("c", v));
    }

    @Test
    void onlyTheOldestControlNodeOnTheMajoritySideDownsEdges() {
        var v = view(control("c1", 1), control("c2", 2), lost(edge("e", 3), 30, 30));
        assertEquals(Set.of("e"), down("c1", v));
        assertEquals(Set.of(), down("c2", v), "c2 leaves it to the older c1");
        var c1Gone = view(control("c2", 2), control("c3", 5), lost(control("c1", 1), 30, 30),
                lost(edge("e", 3), 30, 30));
        assertEquals(Set.of("c1", "e"), down("c2", c1Gone), "c2 is the oldest control node left");
    }

    @Test
    void controlNodesKeepTheMajorityAndATieKeepsTheLowestAddress() {
        var minority = view(control("c2", 2), lost(control("c1", 1), 30, 30), lost(control("c3", 3), 30, 30));
        assertEquals(Set.of("c2"), down("c2", minority), "alone against two: it downs itself");
        var majority = view(control("c1", 1), control("c3", 3), lost(control("c2", 2), 30, 30));
        assertEquals(Set.of("c2"), down("c1", majority));
        var tieLow = view(control("a", 2), lost(control("b", 1), 30, 30));
        assertEquals(Set.of("b"), down("a", tieLow), "1-1: the side holding the lowest address stays");
        var tieHigh = view(control("b", 1), lost(control("a", 2), 30, 30));
        assertEquals(Set.of("b"), down("b", tieHigh), "and the other side downs itself");
    }

    @Test
    void anEdgeCutOffFromEveryControlNodeDownsItself() {
        var cut = view(edge("e", 2), lost(control("c", 1), 25, 21), edge("f", 3));
        var justJoined = view(edge("e", 2), lost(control("c", 1), 0, 365 * 86400));
        assertEquals(Set.of(), down("e", justJoined), "a control node whose probe has not answered yet, but is reachable");
        assertEquals(Set.of("e"), down("e", cut));
        var notYet = view(edge("e", 2), lost(control("c", 1), 15, 15));
        assertEquals(Set.of(), down("e", notYet));
        var oneAnswers = view(edge("e", 2), lost(control("c1", 1), 60, 60), control("c2", 3));
        assertEquals(Set.of(), down("e", oneAnswers), "one control node still answers");
        assertEquals(Set.of(), down("e", view(edge("e", 2), edge("f", 3))), "no control node at all: no decision");
    }

    @Test
    void theDecisionSaysWhy() {
        var d = DowningPolicy.decide("c", view(control("c", 1), lost(edge("e", 2), 12, 11)), STABLE);
        assertEquals(List.of("e"), d.down());
        assertTrue(d.why().contains("unreachable 12.0 s") && d.why().contains("silent to this node 11.0 s"), d.why());
        assertTrue(DowningPolicy.decide("nobody", view(control("c", 1)), STABLE).down().isEmpty());
    }
}
