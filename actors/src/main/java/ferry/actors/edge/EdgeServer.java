package ferry.actors.edge;

import ferry.persistence.CborSerializable;
import java.util.List;
import java.util.TreeSet;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import ferry.actors.node.NodeHealth;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * An edge server: where it runs, how many devices it takes, and which devices are attached. Attachment goes
 * through here so an edge never takes more devices than its capacity, and an unknown edge is refused.
 */
public final class EdgeServer extends EventSourcedBehavior<EdgeServer.Command, EdgeServer.Event, EdgeServer.State> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "EdgeServer");

    public sealed interface Command extends CborSerializable {}

    /**
     * {@code grpcEndpoint}: host:port of the node's device gRPC service, where real devices reach this edge (and
     * where a device moved here is redirected); empty or null when the node serves none.
     */
    public record Register(String address, int capacity, String grpcEndpoint, ActorRef<StatusReply<Done>> replyTo)
            implements Command {
        public Register(String address, int capacity, ActorRef<StatusReply<Done>> replyTo) {
            this(address, capacity, "", replyTo);
        }
    }

    public record Attach(String deviceId, ActorRef<AttachReply> replyTo) implements Command {}

    public record Detach(String deviceId, ActorRef<Done> replyTo) implements Command {}

    public record Get(ActorRef<State> replyTo) implements Command {}

    /** The answer to an attach request; {@code reason} says why when not accepted. */
    public record AttachReply(String edgeId, boolean accepted, String reason) implements CborSerializable {}

    public sealed interface Event extends CborSerializable {}

    /** {@code grpcEndpoint} is null in journals from before it existed. */
    public record Registered(String address, int capacity, String grpcEndpoint) implements Event {}

    public record DeviceAttached(String deviceId) implements Event {}

    public record DeviceDetached(String deviceId) implements Event {}

    /** {@code devices} sorted, so the state reads the same however it was reached. */
    public record State(String edgeId, boolean registered, String address, int capacity, List<String> devices,
                        String grpcEndpoint) implements CborSerializable {
        public State {
            grpcEndpoint = grpcEndpoint == null ? "" : grpcEndpoint;
        }

        State with(List<String> d) {
            return new State(edgeId, registered, address, capacity, d, grpcEndpoint);
        }
    }

    private final String edgeId;
    private final ActorContext<Command> ctx;

    private EdgeServer(ActorContext<Command> ctx, String edgeId) {
        super(PersistenceId.of(TYPE_KEY.name(), edgeId));
        this.ctx = ctx;
        this.edgeId = edgeId;
    }

    public static Behavior<Command> create(String edgeId) {
        return Behaviors.setup(ctx -> new EdgeServer(ctx, edgeId));
    }

    @Override
    public State emptyState() {
        return new State(edgeId, false, "", 0, List.of(), "");
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Register.class, (s, c) -> {
                    if (c.capacity() < 1) {
                        return Effect().none().thenRun(x -> c.replyTo().tell(
                                StatusReply.error("edge capacity must be at least 1, got " + c.capacity())));
                    }
                    if (c.capacity() < s.devices().size()) {
                        return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error("edge '" + edgeId
                                + "' already has " + s.devices().size() + " devices; capacity " + c.capacity()
                                + " is too small")));
                    }
                    String grpc = c.grpcEndpoint() == null ? "" : c.grpcEndpoint();
                    if (s.registered() && s.address().equals(c.address()) && s.capacity() == c.capacity()
                            && s.grpcEndpoint().equals(grpc)) {
                        return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.ack()));
                    }
                    return Effect().persist(new Registered(c.address(), c.capacity(), grpc))
                            .thenRun(x -> c.replyTo().tell(StatusReply.ack()));
                })
                .onCommand(Attach.class, this::onAttach)
                .onCommand(Detach.class, (s, c) -> s.devices().contains(c.deviceId())
                        ? Effect().persist(new DeviceDetached(c.deviceId()))
                                .thenRun(x -> c.replyTo().tell(Done.getInstance()))
                        : Effect().none().thenRun(x -> c.replyTo().tell(Done.getInstance())))
                .onCommand(Get.class, (s, c) -> Effect().none().thenRun(x -> c.replyTo().tell(x)))
                .build();
    }

    private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onAttach(State s, Attach c) {
        if (!s.registered()) {
            return Effect().none().thenRun(x -> c.replyTo().tell(
                    new AttachReply(edgeId, false, "edge '" + edgeId + "' is not registered")));
        }
        String down = NodeHealth.problem(ctx.getSystem(), s.address());
        if (down != null) {
            // A dead or partitioned edge keeps its registration, but must not take devices.
            return Effect().none().thenRun(x -> c.replyTo().tell(new AttachReply(edgeId, false,
                    "edge '" + edgeId + "' cannot take devices: " + down)));
        }
        if (s.devices().contains(c.deviceId())) {
            return Effect().none().thenRun(x -> c.replyTo().tell(new AttachReply(edgeId, true, "")));
        }
        if (s.devices().size() >= s.capacity()) {
            return Effect().none().thenRun(x -> c.replyTo().tell(new AttachReply(edgeId, false,
                    "edge '" + edgeId + "' is full (" + s.capacity() + " devices)")));
        }
        return Effect().persist(new DeviceAttached(c.deviceId()))
                .thenRun(x -> c.replyTo().tell(new AttachReply(edgeId, true, "")));
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Registered.class, (s, e) -> new State(edgeId, true, e.address(), e.capacity(), s.devices(),
                        e.grpcEndpoint()))
                .onEvent(DeviceAttached.class, (s, e) -> {
                    TreeSet<String> d = new TreeSet<>(s.devices());
                    d.add(e.deviceId());
                    return s.with(List.copyOf(d));
                })
                .onEvent(DeviceDetached.class, (s, e) -> {
                    TreeSet<String> d = new TreeSet<>(s.devices());
                    d.remove(e.deviceId());
                    return s.with(List.copyOf(d));
                })
                .build();
    }
}
