package ferry.actors.node;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which nodes to down, decided from one node's view; pure, so every case is tested without a cluster. The control
 * plane decides: sessions, devices and the edge registry live on control nodes, edges hold nothing that is not
 * rebuilt from the journal, so an edge is expendable and the control side must never go down because of edges.
 *
 * <ul>
 * <li>The <b>decider</b>, the oldest control node that still has a majority of the control nodes on its side,
 * downs an edge (any non-control member) that the cluster has seen unreachable for {@code stableAfter} and that
 * its own probe ({@link NodeLiveness}) has not heard from for as long. An edge only others cannot reach (its
 * probe still answers the decider) is downed only after twice that, so that membership can converge again.</li>
 * <li>Control nodes (several, in larger labs): the side with more of them downs the control nodes it has lost for
 * {@code stableAfter}; the other side downs itself; on a tie the side with the lowest address stays.</li>
 * <li>An edge that has heard from no control node, and seen them all unreachable, for twice {@code stableAfter}
 * downs itself: it is cut off, and
 * {@code ferry node} exits so its supervisor restarts it into the cluster.</li>
 * </ul>
 *
 * <p>Why not Pekko's split brain resolver: all its strategies first down nodes they find "indirectly connected"
 * (observing some node unreachable while unreachable themselves), and when that cannot be settled they down every
 * node. Two edges that crash a few seconds apart produce exactly that picture (the second saw the first die before
 * it died itself), and the resolver took the whole cluster down with its only control node, in a chaos run.
 */
public final class DowningPolicy {
    private DowningPolicy() {}

    /**
     * A member as one node sees it.
     *
     * @param age          smaller is older (the cluster's up-number order)
     * @param unreachable  how long the cluster has seen it unreachable without a break (zero: reachable)
     * @param quiet        how long this node's probe has not heard from it (zero: it answers)
     */
    public record Seen(String address, boolean control, int age, Duration unreachable, Duration quiet) {
        boolean lostFor(Duration d) {
            return unreachable.compareTo(d) >= 0 && quiet.compareTo(d) >= 0;
        }
    }

    /** A decision: the addresses to down, and why, for the log. */
    public record Decision(List<String> down, String why) {
        static final Decision NONE = new Decision(List.of(), "");
    }

    /**
     * What {@code self} should down now. {@code members}: every member that is not down or exiting, self included
     * (its own unreachable and quiet are zero).
     */
    public static Decision decide(String self, Map<String, Seen> members, Duration stableAfter) {
        Seen me = members.get(self);
        if (me == null) {
            return Decision.NONE;
        }
        List<Seen> controls = members.values().stream().filter(Seen::control)
                .sorted(Comparator.comparingInt(Seen::age).thenComparing(Seen::address)).toList();
        if (!me.control()) {
            if (!controls.isEmpty() && controls.stream().allMatch(c -> c.lostFor(stableAfter.multipliedBy(2)))) {
                return new Decision(List.of(self), "no control node has answered this edge for "
                        + seconds(controls.stream().map(Seen::quiet).min(Duration::compareTo).orElseThrow()));
            }
            return Decision.NONE;
        }
        List<Seen> lostControls = controls.stream().filter(c -> !c.address().equals(self) && c.lostFor(stableAfter))
                .toList();
        List<Seen> keptControls = controls.stream().filter(c -> !lostControls.contains(c)).toList();
        List<String> down = new ArrayList<>();
        StringBuilder why = new StringBuilder();
        if (!lostControls.isEmpty()) {
            String lowest = controls.stream().map(Seen::address).sorted().findFirst().orElseThrow();
            boolean majority = keptControls.size() > lostControls.size() || keptControls.size() == lostControls.size()
                    && keptControls.stream().anyMatch(c -> c.address().equals(lowest));
            if (!majority) {
                return new Decision(List.of(self), "this side has " + keptControls.size() + " of "
                        + controls.size() + " control nodes");
            }
            for (Seen c : lostControls) {
                down.add(c.address());
                why.append(describe(c));
            }
        }
        boolean decider = keptControls.get(0).address().equals(self);
        if (decider) {
            for (Seen m : members.values()) {
                if (m.control() || m.address().equals(self)) {
                    continue;
                }
                if (m.lostFor(stableAfter) || m.unreachable().compareTo(stableAfter.multipliedBy(2)) >= 0) {
                    down.add(m.address());
                    why.append(describe(m));
                }
            }
        }
        return down.isEmpty() ? Decision.NONE : new Decision(List.copyOf(down), why.toString().trim());
    }

    private static String describe(Seen m) {
        return m.address() + " (unreachable " + seconds(m.unreachable()) + ", silent to this node "
                + seconds(m.quiet()) + ") ";
    }

    private static String seconds(Duration d) {
        return d.compareTo(Duration.ofDays(1)) > 0 ? "ever" : String.format("%.1f s", d.toMillis() / 1000.0);
    }
}
