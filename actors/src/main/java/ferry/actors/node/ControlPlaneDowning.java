package ferry.actors.node;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.AbstractActorWithTimers;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.DowningProvider;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.remote.artery.ThisActorSystemQuarantinedEvent;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * Ferry's downing provider ({@code pekko.cluster.downing-provider-class}): every node runs a {@link Decider} that
 * looks at the cluster once a second and downs what {@link DowningPolicy} says, from the cluster's unreachability
 * and this node's own probe ({@link NodeLiveness}). See {@code cluster-config/split-brain.conf}.
 */
public final class ControlPlaneDowning extends DowningProvider {
    private final Duration stableAfter;

    public ControlPlaneDowning(ActorSystem system) {
        this.stableAfter = system.settings().config().getDuration("ferry.downing.stable-after");
    }

    /** As long as a decision waits: the downed side has stopped its entities before they start elsewhere. */
    @Override
    public FiniteDuration downRemovalMargin() {
        return FiniteDuration.fromNanos(stableAfter.toNanos());
    }

    @Override
    public Option<Props> downingActorProps() {
        Duration s = stableAfter;
        return Option.apply(Props.create(Decider.class, () -> new Decider(s)));
    }

    /** The per-node actor: tracks how long each member has been unreachable, and downs per the policy. */
    static final class Decider extends AbstractActorWithTimers {
        private static final Duration TICK = Duration.ofSeconds(1);
        private final Duration stableAfter;
        private final Cluster cluster = Cluster.get(getContext().getSystem());
        private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
        private final Map<String, Long> unreachableSince = new HashMap<>();
        private final Set<String> downed = new HashSet<>();
        private long lastTick = System.nanoTime();
        private long holdUntil;

        Decider(Duration stableAfter) {
            this.stableAfter = stableAfter;
        }

        @Override
        public void preStart() {
            getTimers().startTimerWithFixedDelay("tick", "tick", TICK);
            getContext().getSystem().getEventStream().subscribe(getSelf(), ThisActorSystemQuarantinedEvent.class);
        }

        @Override
        public Receive createReceive() {
            return receiveBuilder().matchEquals("tick", t -> tick())
                    .match(ThisActorSystemQuarantinedEvent.class, this::quarantined).build();
        }

        /**
         * A member has quarantined this node: it was downed and removed while it stood still or was cut off (the
         * others will never talk to this incarnation again). It downs itself at once rather than live on as an
         * island; {@code ferry node} then exits and its supervisor brings it back as a new incarnation.
         */
        private void quarantined(ThisActorSystemQuarantinedEvent e) {
            if (cluster.selfMember().status() != MemberStatus.down()) {
                log.warning("Ferry downing: {} quarantined this node; downing myself", e.remoteAddress().address());
                cluster.down(cluster.selfAddress());
            }
        }

        private void tick() {
            long now = System.nanoTime();
            if (now - lastTick > 3 * TICK.toNanos()) {
                // This JVM itself stood still (GC, SIGSTOP, a swapping board): everyone looks silent to it. Decide
                // nothing until its own probes have had time to be answered again.
                holdUntil = now + 3 * TICK.toNanos();
                log.warning("Ferry downing: this node stood still for {} ms; holding decisions for 3 s",
                        (now - lastTick) / 1_000_000);
            }
            lastTick = now;
            if (now < holdUntil || cluster.selfMember().status() == MemberStatus.down()) {
                return;
            }
            Set<String> unreachable = new HashSet<>();
            for (Member m : cluster.state().getUnreachable()) {
                unreachable.add(m.address().toString());
            }
            unreachableSince.keySet().retainAll(unreachable);
            unreachable.forEach(a -> unreachableSince.putIfAbsent(a, now));
            NodeLiveness probe = NodeLiveness.get(Adapter.toTyped(getContext().getSystem()));
            Map<String, DowningPolicy.Seen> seen = new LinkedHashMap<>();
            Map<String, Member> byAddress = new HashMap<>();
            for (Member m : cluster.state().getMembers()) {
                if (m.status() == MemberStatus.down() || m.status() == MemberStatus.exiting()
                        || m.status() == MemberStatus.removed()) {
                    continue;
                }
                String a = m.address().toString();
                byAddress.put(a, m);
                Long since = unreachableSince.get(a);
                seen.put(a, new DowningPolicy.Seen(a, m.hasRole(FerryNode.CONTROL), m.upNumber(),
                        since == null ? Duration.ZERO : Duration.ofNanos(now - since), probe.quiet(a)));
            }
            DowningPolicy.Decision d = DowningPolicy.decide(cluster.selfAddress().toString(), seen, stableAfter);
            for (String a : d.down()) {
                Member m = byAddress.get(a);
                if (downed.add(a + "#" + m.uniqueAddress().longUid())) { // once per incarnation in the log
                    log.warning("Ferry downing: downing {}: {}", a, d.why());
                }
                cluster.down(m.address());
            }
        }
    }
}
