package ferry.persistence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A test-only event-sourced counter whose events and state are Java records marked {@link CborSerializable},
 * so they go through the JDBC journal and snapshot store as jackson-cbor. The event shapes are the ones Ferry's
 * real entities will use: a record with a nested {@link ModelRef} (possibly null), a one-field record (the shape
 * Jackson could mistake for a delegating creator), and a state with a list.
 */
final class Counter extends EventSourcedBehavior<Counter.Command, Counter.Event, Counter.State> {

    interface Command extends CborSerializable {}

    record Add(int amount, ModelRef model, ActorRef<State> replyTo) implements Command {}

    record Rename(String name, ActorRef<State> replyTo) implements Command {}

    record Get(ActorRef<State> replyTo) implements Command {}

    interface Event extends CborSerializable {}

    record Added(int amount, ModelRef model) implements Event {}

    record Renamed(String name) implements Event {}

    record State(int total, List<Integer> history, String name, ModelRef lastModel) implements CborSerializable {
        State {
            history = List.copyOf(history);
        }

        static State empty() {
            return new State(0, List.of(), "", null);
        }

        State add(Added e) {
            List<Integer> h = new ArrayList<>(history);
            h.add(e.amount());
            return new State(total + e.amount(), h, name, e.model() != null ? e.model() : lastModel);
        }
    }

    private final int snapshotEvery;
    private final AtomicInteger eventsApplied;
    private final AtomicInteger replayedAtRecovery;

    /**
     * @param snapshotEvery 0 for no snapshots
     * @param eventsApplied counts event-handler calls (replays and new events)
     * @param replayedAtRecovery set to the number of events replayed when recovery completes
     */
    Counter(PersistenceId id, int snapshotEvery, AtomicInteger eventsApplied, AtomicInteger replayedAtRecovery) {
        super(id);
        this.snapshotEvery = snapshotEvery;
        this.eventsApplied = eventsApplied;
        this.replayedAtRecovery = replayedAtRecovery;
    }

    static Counter of(PersistenceId id, int snapshotEvery) {
        return new Counter(id, snapshotEvery, new AtomicInteger(), new AtomicInteger(-1));
    }

    @Override
    public State emptyState() {
        return State.empty();
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Add.class, (s, c) -> Effect().persist(new Added(c.amount(), c.model()))
                        .thenReply(c.replyTo(), ns -> ns))
                .onCommand(Rename.class, (s, c) -> Effect().persist(new Renamed(c.name()))
                        .thenReply(c.replyTo(), ns -> ns))
                .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), s))
                .build();
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Added.class, (s, e) -> {
                    eventsApplied.incrementAndGet();
                    return s.add(e);
                })
                .onEvent(Renamed.class, (s, e) -> {
                    eventsApplied.incrementAndGet();
                    return new State(s.total(), s.history(), e.name(), s.lastModel());
                })
                .build();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.instance(), s -> replayedAtRecovery.set(eventsApplied.get()))
                .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return snapshotEvery > 0 ? RetentionCriteria.snapshotEvery(snapshotEvery, 2) : RetentionCriteria.disabled();
    }
}
