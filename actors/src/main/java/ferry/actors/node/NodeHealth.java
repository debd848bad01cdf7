package ferry.actors.node;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Whether the node at a cluster address can serve: an Up member that the failure detector can reach and whose
 * probe has answered lately ({@link NodeLiveness}: a killed node is silent well before it is unreachable).
 */
public final class NodeHealth {
    private NodeHealth() {}

    /** Null when the node is fine (or the address is not a cluster address); otherwise why it cannot serve. */
    public static String problem(ActorSystem<?> system, String address) {
        return check(system, address, true);
    }

    /**
     * Why the node at {@code address} is gone for now (unreachable, silent, or a member that is down or leaving), or
     * null.
     * Unlike {@link #problem}, an address that is simply not a member is not "gone": after a restart on a new
     * port an edge's registration names its old address while sharding already serves it from the new one, so
     * only a node the cluster knows to be lost triggers a failover.
     */
    public static String lost(ActorSystem<?> system, String address) {
        return check(system, address, false);
    }

    private static String check(ActorSystem<?> system, String address, boolean absentIsAProblem) {
        if (address == null || !address.startsWith("pekko://")
                || !"cluster".equals(system.settings().config().getString("pekko.actor.provider"))) {
            return null;
        }
        ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
        for (Member m : state.getUnreachable()) {
            if (m.address().toString().equals(address)) {
                return "its node " + address + " is unreachable";
            }
        }
        for (Member m : state.getMembers()) {
            if (m.address().toString().equals(address)) {
                if (m.status() != MemberStatus.up() && m.status() != MemberStatus.weaklyUp()) {
                    return "its node " + address + " is " + m.status();
                }
                return NodeLiveness.get(system).silent(address);
            }
        }
        return absentIsAProblem ? "its node " + address + " is not in the cluster" : null;
    }
}
