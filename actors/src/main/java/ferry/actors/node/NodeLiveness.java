package ferry.actors.node;

import com.typesafe.config.Config;
import ferry.persistence.CborSerializable;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Ferry's own, faster view of which nodes are alive, for fast failover only (membership and downing stay with
 * Pekko's failure detector and ControlPlaneDowning).
 *
 * <p>Every node runs a probe that answers pings, and a pinger that pings every node's probe (itself included)
 * each {@code ferry.failover.probe-interval}. A node whose probe has not answered for {@code ferry.failover.silence}
 * while others have answered recently counts as silent: a killed JVM is silent ~1.5 s after its death, where the
 * cluster's failure detector needs its 3 s heartbeat pause plus a margin (≥ 4 s on a loaded machine, measured).
 * The same silence from a node that is merely frozen (a long GC, a partition) triggers a failover too; that costs a
 * rebuild elsewhere, and the attachment epoch fences the frozen edge off when it wakes up, so it cannot touch the
 * device's training.
 *
 * <p>Only this node's own pinger being starved could make every node look silent at once; then nothing is
 * called silent (the freshest answer from any node must be recent).
 */
public final class NodeLiveness implements Extension {
    static final ServiceKey<Ping> PROBES = ServiceKey.create(Ping.class, "ferry-node-probe");

    public record Ping(ActorRef<Pong> replyTo) implements CborSerializable {}

    public record Pong(String address) implements CborSerializable {}

    private final ActorSystem<?> system;
    private final Duration silence;
    private final Duration interval;
    /** Cluster address → System.nanoTime() of its probe's latest answer. */
    private final Map<String, Long> lastAnswer = new ConcurrentHashMap<>();

    private NodeLiveness(ActorSystem<?> system) {
        this.system = system;
        Config c = system.settings().config();
        this.silence = c.getDuration("ferry.failover.silence");
        this.interval = c.getDuration("ferry.failover.probe-interval");
        if (isCluster(system)) {
            system.systemActorOf(probe(system.address().toString()), "ferry-node-probe", Props.empty());
            system.systemActorOf(pinger(interval), "ferry-node-pinger", Props.empty());
        }
    }

    public static NodeLiveness get(ActorSystem<?> system) {
        return Id.INSTANCE.apply(system);
    }

    /**
     * Why the node at {@code address} counts as silent ("its node ... has not answered for 1.6 s"), or null: it
     * answered within the silence, or it never answered (not known here yet), or this node cannot tell because
     * no node at all answered recently.
     */
    public String silent(String address) {
        Long last = lastAnswer.get(address);
        if (last == null) {
            return null;
        }
        long now = System.nanoTime();
        long quiet = now - last;
        if (quiet < silence.toNanos()) {
            return null;
        }
        long freshest = lastAnswer.entrySet().stream().filter(e -> !e.getKey().equals(address))
                .mapToLong(Map.Entry::getValue).max().orElse(Long.MIN_VALUE);
        if (freshest == Long.MIN_VALUE || now - freshest > silence.toNanos() / 2) {
            return null; // our own pings are late everywhere: this node is starved, not that one dead
        }
        return String.format("its node %s has not answered for %.1f s", address, quiet / 1e9);
    }

    /**
     * How long the probe at {@code address} has not answered (zero when it answered within a probe interval or two;
     * a year when it never answered since it became a member). Raw, for downing: {@link #silent} is the judgement.
     */
    public Duration quiet(String address) {
        if (address.equals(system.address().toString())) {
            return Duration.ZERO;
        }
        Long last = lastAnswer.get(address);
        if (last == null) {
            return Duration.ofDays(365);
        }
        long quiet = System.nanoTime() - last;
        return quiet < 2 * interval.toNanos() ? Duration.ZERO : Duration.ofNanos(quiet);
    }

    private static boolean isCluster(ActorSystem<?> system) {
        return "cluster".equals(system.settings().config().getString("pekko.actor.provider"));
    }

    private static Behavior<Ping> probe(String address) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(PROBES, ctx.getSelf()));
            return Behaviors.receiveMessage(p -> {
                p.replyTo().tell(new Pong(address));
                return Behaviors.same();
            });
        });
    }

    /** The pinger's own messages never leave its node. */
    private sealed interface PingerMsg extends org.apache.pekko.actor.NoSerializationVerificationNeeded {}

    private record Tick() implements PingerMsg {}

    private record Listed(Set<ActorRef<Ping>> probes) implements PingerMsg {}

    private record Answered(Pong pong) implements PingerMsg {}

    private Behavior<PingerMsg> pinger(Duration interval) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(PROBES, ctx.messageAdapter(
                    Receptionist.Listing.class, l -> new Listed(l.getServiceInstances(PROBES)))));
            ActorRef<Pong> answers = ctx.messageAdapter(Pong.class, Answered::new);
            timers.startTimerWithFixedDelay(new Tick(), interval);
            Set<ActorRef<Ping>>[] probes = new Set[] {Set.of()};
            return Behaviors.receive(PingerMsg.class)
                    .onMessage(Listed.class, l -> {
                        probes[0] = l.probes();
                        return Behaviors.same();
                    })
                    .onMessage(Tick.class, t -> {
                        for (ActorRef<Ping> p : probes[0]) {
                            p.tell(new Ping(answers));
                        }
                        forgetFormerMembers();
                        return Behaviors.same();
                    })
                    .onMessage(Answered.class, a -> {
                        lastAnswer.put(a.pong().address(), System.nanoTime());
                        return Behaviors.same();
                    })
                    .build();
        }));
    }

    /** A node that left or was removed is no longer judged here (a restart comes back at a new address). */
    private void forgetFormerMembers() {
        Set<String> members = new java.util.HashSet<>();
        for (Member m : Cluster.get(system).state().getMembers()) {
            members.add(m.address().toString());
        }
        lastAnswer.keySet().retainAll(members);
    }

    static final class Id extends ExtensionId<NodeLiveness> {
        static final Id INSTANCE = new Id();

        @Override
        public NodeLiveness createExtension(ActorSystem<?> system) {
            return new NodeLiveness(system);
        }
    }
}
