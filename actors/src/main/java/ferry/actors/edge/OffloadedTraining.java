package ferry.actors.edge;

import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.RoundInstruction;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.actors.node.DatasetRegistry;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.tensor.TensorCodec;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import ferry.zoo.train.StepResult;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One device's server half on an edge (entity id {@code session~device}; persistence ids reserve "|"): it takes
 * the device's activations, runs the layers after the cut, back-propagates and answers with the cut-layer
 * gradient. Round starts and ends are persisted with refs to the weights; the weights live in the blob store.
 *
 * <p>Bad input (wrong shape, non-finite values, unknown round, a step out of order) gets an answer with an error
 * and trains nothing.
 */
public final class OffloadedTraining
        extends EventSourcedBehavior<OffloadedTraining.Command, OffloadedTraining.Event, OffloadedTraining.State> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "OffloadedTraining");

    public static String entityId(String sessionId, String deviceId) {
        return sessionId + "~" + deviceId;
    }

    public sealed interface Command extends CborSerializable {}

    /** Starts (or restarts) a round from the global model; replies once the server half is ready. */
    public record BeginRound(RoundInstruction instruction, String edgeId, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    /** One batch: activations in the tensor byte format, the labels, and the batch's position in the round. */
    public record Step(int round, int attempt, long cursor, byte[] activations, int[] labels,
                       ActorRef<StepReply> replyTo) implements Command {}

    /** Ends the round: the trained server half goes to the blob store and its ref comes back. */
    public record FinishRound(int round, int attempt, ActorRef<StatusReply<ModelRef>> replyTo) implements Command {}

    public record Get(ActorRef<State> replyTo) implements Command {}

    /** The answer to a step: the cut-layer gradient as tensor bytes, or an error saying what was wrong. */
    public record StepReply(long cursor, byte[] gradient, float loss, int correct, String error)
            implements CborSerializable {
        public static StepReply failed(long cursor, String error) {
            return new StepReply(cursor, new byte[0], 0, 0, error);
        }

        public boolean ok() {
            return error == null;
        }
    }

    public sealed interface Event extends CborSerializable {}

    public record RoundBegun(int round, int attempt, String edgeId, String model, String dataset, int cut,
                             float learningRate, long seed, ModelRef global) implements Event {}

    public record RoundFinished(int round, int attempt, long steps, ModelRef serverWeights) implements Event {}

    public record State(String id, int round, int attempt, boolean inRound, String edgeId, String model,
                        String dataset, int cut, float learningRate, long seed, ModelRef global,
                        ModelRef lastServerWeights, long roundsFinished) implements CborSerializable {}

    private final String id;
    private final FerryServices services;
    private final ActorContext<Command> ctx;
    /** The live server half; not persisted (its weights are, at round boundaries). */
    private ServerHalf server;
    private String serverKey = "";
    private long expectedCursor;
    private int liveRound = -1;
    private int liveAttempt = -1;

    private OffloadedTraining(ActorContext<Command> ctx, String id, FerryServices services) {
        super(PersistenceId.of(TYPE_KEY.name(), id));
        this.ctx = ctx;
        this.id = id;
        this.services = services;
    }

    public static Behavior<Command> create(String entityId, FerryServices services) {
        return Behaviors.setup(ctx -> new OffloadedTraining(ctx, entityId, services));
    }

    @Override
    public State emptyState() {
        return new State(id, 0, 0, false, "", "", "", 0, 0, 0, null, null, 0);
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(BeginRound.class, this::onBegin)
                .onCommand(Step.class, this::onStep)
                .onCommand(FinishRound.class, this::onFinish)
                .onCommand(Get.class, (s, c) -> Effect().none().thenRun(x -> c.replyTo().tell(x)))
                .build();
    }

    private Effect<Event, State> onBegin(State s, BeginRound c) {
        RoundInstruction ins = c.instruction();
        try {
            ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
            String key = ins.model() + "/" + ins.dataset() + "/" + ins.cut() + "/" + ins.learningRate();
            if (server == null || !key.equals(serverKey)) {
                closeServer();
                server = new ServerHalf(spec, ins.cut(), ins.seed(),
                        new SgdConfig(ins.learningRate(), SgdConfig.DEFAULT.momentum(), 0f));
                serverKey = key;
            }
            // Each round starts from the global model with fresh momentum, as FedFly and SplitFed do.
            server.loadWeights(ModelBlobs.select(ModelBlobs.getWeights(services.blobs(), ins.global()),
                    server.parameterNames()), true);
        } catch (RuntimeException e) {
            closeServer();
            ctx.getLog().warn("{}: cannot begin round {}: {}", id, ins.round(), e.toString());
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "edge cannot begin round " + ins.round() + ": " + e.getMessage())));
        }
        expectedCursor = 0;
        liveRound = ins.round();
        liveAttempt = ins.attempt();
        return Effect().persist(new RoundBegun(ins.round(), ins.attempt(), c.edgeId(), ins.model(), ins.dataset(),
                        ins.cut(), ins.learningRate(), ins.seed(), ins.global()))
                .thenRun(x -> c.replyTo().tell(StatusReply.ack()));
    }

    private Effect<Event, State> onStep(State s, Step c) {
        String problem = null;
        if (server == null || c.round() != liveRound || c.attempt() != liveAttempt) {
            problem = "no round " + c.round() + " (attempt " + c.attempt() + ") in progress here; live is round "
                    + liveRound + " attempt " + liveAttempt;
        } else if (c.cursor() != expectedCursor) {
            problem = "step " + c.cursor() + " out of order: expected step " + expectedCursor;
        }
        if (problem != null) {
            String p = problem;
            return Effect().none().thenRun(x -> c.replyTo().tell(StepReply.failed(c.cursor(), p)));
        }
        StepReply reply;
        try {
            Tensor act = TensorCodec.decode(c.activations());
            StepResult r = server.step(act, c.labels());
            expectedCursor++;
            reply = new StepReply(c.cursor(), TensorCodec.encode(r.cutGradient()), r.loss(), r.correct(), null);
        } catch (IllegalArgumentException e) { // malformed tensors, wrong shapes, bad labels: nothing trained
            reply = StepReply.failed(c.cursor(), e.getMessage());
        }
        StepReply out = reply;
        return Effect().none().thenRun(x -> c.replyTo().tell(out));
    }

    private Effect<Event, State> onFinish(State s, FinishRound c) {
        if (server == null || c.round() != liveRound || c.attempt() != liveAttempt) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error("no round " + c.round()
                    + " (attempt " + c.attempt() + ") in progress here")));
        }
        ModelRef ref;
        try {
            ref = ModelBlobs.putWeights(services.blobs(), server.weights());
        } catch (RuntimeException e) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "edge cannot store the server half: " + e.getMessage())));
        }
        long steps = expectedCursor;
        liveRound = -1;
        return Effect().persist(new RoundFinished(c.round(), c.attempt(), steps, ref))
                .thenRun(x -> c.replyTo().tell(StatusReply.success(ref)));
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(RoundBegun.class, (s, e) -> new State(id, e.round(), e.attempt(), true, e.edgeId(),
                        e.model(), e.dataset(), e.cut(), e.learningRate(), e.seed(), e.global(),
                        s.lastServerWeights(), s.roundsFinished()))
                .onEvent(RoundFinished.class, (s, e) -> new State(id, s.round(), s.attempt(), false, s.edgeId(),
                        s.model(), s.dataset(), s.cut(), s.learningRate(), s.seed(), s.global(), e.serverWeights(),
                        s.roundsFinished() + 1))
                .build();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder().onSignal(PostStop.instance(), s -> closeServer()).build();
    }

    private void closeServer() {
        if (server != null) {
            server.close();
            server = null;
            serverKey = "";
        }
    }
}
