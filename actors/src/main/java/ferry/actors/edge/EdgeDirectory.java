package ferry.actors.edge;

import ferry.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * Every edge ever registered (one entity, id {@value #ID}): where a device whose edge died looks for another
 * one. Which of them can take it now (registered, reachable, not full) each EdgeServer answers itself.
 */
public final class EdgeDirectory
        extends EventSourcedBehavior<EdgeDirectory.Command, EdgeDirectory.Event, EdgeDirectory.State> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "EdgeDirectory");
    public static final String ID = "edges";

    public sealed interface Command extends CborSerializable {}

    public record Add(String edgeId, ActorRef<org.apache.pekko.Done> replyTo) implements Command {}

    public record List_(ActorRef<State> replyTo) implements Command {}

    public sealed interface Event extends CborSerializable {}

    public record Added(String edgeId) implements Event {}

    /** Edge ids, sorted: failover tries them in this order. */
    public record State(List<String> edges) implements CborSerializable {
        public State {
            edges = List.copyOf(edges);
        }
    }

    private EdgeDirectory(ActorContext<Command> ctx) {
        super(PersistenceId.of(TYPE_KEY.name(), ID));
    }

    public static Behavior<Command> create() {
        return Behaviors.setup(EdgeDirectory::new);
    }

    @Override
    public State emptyState() {
        return new State(List.of());
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Add.class, (s, c) -> s.edges().contains(c.edgeId())
                        ? Effect().none().thenRun(x -> c.replyTo().tell(org.apache.pekko.Done.getInstance()))
                        : Effect().persist(new Added(c.edgeId()))
                                .thenRun(x -> c.replyTo().tell(org.apache.pekko.Done.getInstance())))
                .onCommand(List_.class, (s, c) -> Effect().none().thenRun(x -> c.replyTo().tell(x)))
                .build();
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Added.class, (s, e) -> {
                    TreeSet<String> all = new TreeSet<>(s.edges());
                    all.add(e.edgeId());
                    return new State(new ArrayList<>(all));
                })
                .build();
    }
}
