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
import ferry.zoo.train.ModelStateCodec;
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
 *
 * <p><b>Fencing.</b> Every command carries the device's attachment epoch, which the device makes durable before it
 * sends anything under it and raises whenever it (re)establishes its server half (a move, a failover, a rebuild).
 * This entity keeps the highest epoch it has been established at (persisted with the round's start, a take-over
 * and a hand-off) and refuses commands of any other epoch: a step that an edge cut off by a partition or frozen by
 * a pause delivers late, or that the network kept while the device moved on, can never be trained into a half the
 * device has since re-established here.
 */
public final class OffloadedTraining
        extends EventSourcedBehavior<OffloadedTraining.Command, OffloadedTraining.Event, OffloadedTraining.State> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "OffloadedTraining");

    /**
     * One entity per (session, device, edge): a device that moves gets a new entity on its new edge, which takes
     * over the old one's state. The edge is the shard, so an edge's entities live where the edge is.
     */
    public static String entityId(String sessionId, String deviceId, String edgeId) {
        return sessionId + "~" + deviceId + "~" + edgeId;
    }

    /** The shard of an entity: its edge. */
    public static String edgeOf(String entityId) {
        return entityId.substring(entityId.lastIndexOf('~') + 1);
    }

    public sealed interface Command extends CborSerializable {}

    /** Starts (or restarts) a round from the global model; replies once the server half is ready. */
    public record BeginRound(RoundInstruction instruction, String edgeId, long epoch,
                             ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /** One batch: activations in the tensor byte format, the labels, and the batch's position in the round. */
    public record Step(int round, int attempt, long epoch, long cursor, byte[] activations, int[] labels,
                       ActorRef<StepReply> replyTo) implements Command {}

    /** Ends the round: the trained server half goes to the blob store and its ref comes back. */
    public record FinishRound(int round, int attempt, long epoch, ActorRef<StatusReply<ModelRef>> replyTo)
            implements Command {}

    public record Get(ActorRef<State> replyTo) implements Command {}

    /**
     * FedFly hand-off, source side: after the step in hand, the server half's whole state (weights, momentum,
     * cursor) and the last cut-layer gradient go to the blob store, the hand-off is persisted, and this edge
     * stops serving the device.
     */
    public record HandOff(int round, int attempt, long epoch, String toEdge,
                          ActorRef<StatusReply<Handover>> replyTo) implements Command {}

    /**
     * FedFly hand-off, target side: take over a handed-off state and answer with the pending gradient. A hand-off
     * without a state ({@code state == null}) starts from the round's global model with fresh momentum; one
     * without a gradient has nothing pending. A device that lost its edge rebuilds with one of these and then
     * replays the steps since that state.
     */
    public record TakeOver(RoundInstruction instruction, String fromEdge, long epoch, Handoff handoff,
                           Handover handover, ActorRef<StatusReply<Resume>> replyTo) implements Command {}

    /**
     * The state itself, as the old edge hands it over: the server half's encoded state and the last gradient.
     * It goes straight to the new edge; making it durable happens beside, off the device's critical path (a
     * crash before it is durable costs a rebuild from the last checkpoint, never a lost or repeated batch).
     */
    public record Handover(long lastCursor, float lastLoss, int lastCorrect, byte[] state, byte[] gradient)
            implements CborSerializable {
        public long bytes() {
            return state.length + gradient.length;
        }
    }

    /** What moves between edges: refs to the server half's state and the last gradient, and its cursor. */
    public record Handoff(ModelRef state, ModelRef lastGradient, long lastCursor, float lastLoss, int lastCorrect,
                          long bytes) implements CborSerializable {}

    /** What the new edge tells the device: the last step it has a gradient for, that gradient and its loss. */
    public record Resume(long lastCursor, byte[] gradient, float loss, int correct) implements CborSerializable {}

    /**
     * The answer to a step: the cut-layer gradient as tensor bytes, or an error saying what was wrong. When the
     * edge has just checkpointed its half, {@code checkpoint} refers to that state, which holds everything up to
     * step {@code cursor}. {@code epoch}: the attachment epoch the step was served (or refused) under.
     */
    public record StepReply(long cursor, long epoch, byte[] gradient, float loss, int correct, String error,
                            ModelRef checkpoint) implements CborSerializable {
        public static StepReply failed(long cursor, long epoch, String error) {
            return new StepReply(cursor, epoch, new byte[0], 0, 0, error, null);
        }

        public boolean ok() {
            return error == null;
        }
    }

    public sealed interface Event extends CborSerializable {}

    /** {@code node}: the cluster address the server half ran on; {@code epoch}: the device's attachment epoch. */
    public record RoundBegun(int round, int attempt, String edgeId, String model, String dataset, int cut,
                             float learningRate, long seed, ModelRef global, String node, long epoch)
            implements Event {}

    public record RoundFinished(int round, int attempt, long steps, ModelRef serverWeights) implements Event {}

    public record HandedOff(int round, int attempt, String toEdge, Handoff handoff, long epoch) implements Event {}

    public record TookOver(RoundInstruction instruction, String fromEdge, Handoff handoff, String node, long epoch)
            implements Event {}

    /** The server half's state after step {@code cursor - 1}, made durable every few steps. */
    public record Checkpointed(int round, int attempt, long cursor, ModelRef state) implements Event {}

    /** {@code epoch}: the highest attachment epoch the device has established its half here at (the fence). */
    public record State(String id, int round, int attempt, boolean inRound, String edgeId, String model,
                        String dataset, int cut, float learningRate, long seed, ModelRef global,
                        ModelRef lastServerWeights, long roundsFinished, long epoch) implements CborSerializable {
        State withEpoch(long e) {
            return new State(id, round, attempt, inRound, edgeId, model, dataset, cut, learningRate, seed, global,
                    lastServerWeights, roundsFinished, Math.max(epoch, e));
        }
    }

    private final String id;
    private final FerryServices services;
    private final ActorContext<Command> ctx;
    /** The live server half; not persisted (its weights are, at round boundaries). */
    private ServerHalf server;
    private String serverKey = "";
    private long expectedCursor;
    private int liveRound = -1;
    private int liveAttempt = -1;
    /** The last step's gradient, kept so a hand-off can deliver it if the device never received it. */
    private byte[] lastGradient = new byte[0];
    private float lastLoss;
    private int lastCorrect;
    private String handedOffTo;
    /** Steps between durable checkpoints of the live half (0: none). */
    private final int checkpointEvery;
    /** Whether a hand-off also writes the handed-over state to the blob store (beside, not before, the move). */
    private final boolean durableHandover;

    private OffloadedTraining(ActorContext<Command> ctx, String id, FerryServices services) {
        super(PersistenceId.of(TYPE_KEY.name(), id));
        this.ctx = ctx;
        this.id = id;
        this.services = services;
        this.checkpointEvery = ctx.getSystem().settings().config().getInt("ferry.checkpoint-every");
        this.durableHandover = ctx.getSystem().settings().config().getBoolean("ferry.durable-handover");
    }

    public static Behavior<Command> create(String entityId, FerryServices services) {
        return Behaviors.setup(ctx -> new OffloadedTraining(ctx, entityId, services));
    }

    @Override
    public State emptyState() {
        return new State(id, 0, 0, false, "", "", "", 0, 0, 0, null, null, 0, 0);
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(BeginRound.class, this::onBegin)
                .onCommand(Step.class, this::onStep)
                .onCommand(FinishRound.class, this::onFinish)
                .onCommand(HandOff.class, this::onHandOff)
                .onCommand(TakeOver.class, this::onTakeOver)
                .onCommand(Get.class, (s, c) -> Effect().none().thenRun(x -> c.replyTo().tell(x)))
                .build();
    }

    /** Builds the server half for an instruction, or reuses the live one when model, cut and rate match. */
    private void prepareServer(RoundInstruction ins) {
        ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
        String key = ins.model() + "/" + ins.dataset() + "/" + ins.cut() + "/" + ins.learningRate();
        if (server == null || !key.equals(serverKey)) {
            closeServer();
            server = services.halves().take(key, () -> new ServerHalf(spec, ins.cut(), ins.seed(),
                    new SgdConfig(ins.learningRate(), SgdConfig.DEFAULT.momentum(), 0f)));
            serverKey = key;
        }
    }

    private void goLive(RoundInstruction ins, long nextCursor) {
        expectedCursor = nextCursor;
        liveRound = ins.round();
        liveAttempt = ins.attempt();
        handedOffTo = null;
        lastGradient = new byte[0];
    }

    /**
     * Why a command of attachment epoch {@code epoch} is refused here, or null. A command that establishes the half
     * (a round's start, a take-over) may raise the epoch; any other must carry exactly the established one.
     */
    private String fenced(State s, long epoch, boolean establishes) {
        if (epoch < s.epoch()) {
            services.metrics().fenced();
            return "fenced: the command carries attachment epoch " + epoch + " but the device re-established its"
                    + " server half here at epoch " + s.epoch() + " since (a late message from before a move or"
                    + " failover)";
        }
        if (epoch > s.epoch() && !establishes) {
            return "the command carries attachment epoch " + epoch + " but the server half here was established at"
                    + " epoch " + s.epoch() + ": the device must establish it again (begin or take over)";
        }
        return null;
    }

    private Effect<Event, State> onBegin(State s, BeginRound c) {
        RoundInstruction ins = c.instruction();
        String fence = fenced(s, c.epoch(), true);
        if (fence != null) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(fence)));
        }
        try {
            prepareServer(ins);
            // Each round starts from the global model with fresh momentum, as FedFly and SplitFed do.
            server.loadWeights(ModelBlobs.select(ModelBlobs.getWeights(services.blobs(), ins.global()),
                    server.parameterNames()), true);
        } catch (RuntimeException e) {
            closeServer();
            ctx.getLog().warn("{}: cannot begin round {}: {}", id, ins.round(), e.toString());
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "edge cannot begin round " + ins.round() + ": " + e.getMessage())));
        }
        goLive(ins, 0);
        return Effect().persist(new RoundBegun(ins.round(), ins.attempt(), c.edgeId(), ins.model(), ins.dataset(),
                        ins.cut(), ins.learningRate(), ins.seed(), ins.global(), node(), c.epoch()))
                .thenRun(x -> c.replyTo().tell(StatusReply.ack()));
    }

    private Effect<Event, State> onStep(State s, Step c) {
        String problem = fenced(s, c.epoch(), false);
        if (problem != null) {
            // (checked first: a fenced step must not even learn whether its round is live here)
        } else if (handedOffTo != null && c.round() == liveRound && c.attempt() == liveAttempt) {
            problem = "round " + c.round() + " was handed off to edge '" + handedOffTo + "'";
        } else if (server == null || c.round() != liveRound || c.attempt() != liveAttempt) {
            problem = "no round " + c.round() + " (attempt " + c.attempt() + ") in progress here; live is round "
                    + liveRound + " attempt " + liveAttempt;
        } else if (c.cursor() != expectedCursor) {
            problem = "step " + c.cursor() + " out of order: expected step " + expectedCursor;
        }
        if (problem != null) {
            String p = problem;
            return Effect().none().thenRun(x -> c.replyTo().tell(StepReply.failed(c.cursor(), c.epoch(), p)));
        }
        StepResult r;
        try {
            r = server.step(TensorCodec.decode(c.activations()), c.labels());
        } catch (IllegalArgumentException e) { // malformed tensors, wrong shapes, bad labels: nothing trained
            return Effect().none().thenRun(x -> c.replyTo().tell(StepReply.failed(c.cursor(), c.epoch(),
                    e.getMessage())));
        }
        expectedCursor++;
        lastGradient = TensorCodec.encode(r.cutGradient());
        lastLoss = r.loss();
        lastCorrect = r.correct();
        if (services.faults().losesStateAfter(id, c.cursor())) {
            ctx.getLog().warn("{}: injected fault: the server half loses its live state after step {}", id,
                    c.cursor());
            closeServer();
            liveRound = -1;
            return Effect().none(); // the device hears nothing, as from a crashed node
        }
        if (checkpointEvery > 0 && expectedCursor % checkpointEvery == 0) {
            // Bounds what a lost edge costs: a device rebuilds from here by replaying only the steps since.
            ModelRef state;
            try {
                state = ModelBlobs.putState(services.blobs(), server.state());
            } catch (RuntimeException e) {
                ctx.getLog().warn("{}: checkpoint at step {} not written: {}", id, expectedCursor, e.toString());
                state = null;
            }
            if (state != null) {
                StepReply out = new StepReply(c.cursor(), c.epoch(), lastGradient, r.loss(), r.correct(), null,
                        state);
                return Effect().persist(new Checkpointed(c.round(), c.attempt(), expectedCursor, state))
                        .thenRun(x -> c.replyTo().tell(out));
            }
        }
        StepReply out = new StepReply(c.cursor(), c.epoch(), lastGradient, r.loss(), r.correct(), null, null);
        return Effect().none().thenRun(x -> c.replyTo().tell(out));
    }

    private String node() {
        return ctx.getSystem().address().toString();
    }

    private boolean live(int round, int attempt) {
        return server != null && handedOffTo == null && round == liveRound && attempt == liveAttempt;
    }

    private Effect<Event, State> onHandOff(State s, HandOff c) {
        String fence = fenced(s, c.epoch(), false);
        if (fence != null) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(fence)));
        }
        if (!live(c.round(), c.attempt())) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error("no live round " + c.round()
                    + " (attempt " + c.attempt() + ") to hand off here")));
        }
        byte[] state = ModelStateCodec.encode(server.state());
        Handover v = new Handover(expectedCursor - 1, lastLoss, lastCorrect, state, lastGradient);
        handedOffTo = c.toEdge();
        releaseServer(); // the state lives on at the new edge; the half itself can serve another
        c.replyTo().tell(StatusReply.success(v)); // first: the device must not wait for the disk
        if (!durableHandover) {
            // The last checkpoint plus the device's replay log already cover a crash; only the fact is logged.
            return Effect().persist(new HandedOff(c.round(), c.attempt(), c.toEdge(),
                    new Handoff(null, null, v.lastCursor(), v.lastLoss(), v.lastCorrect(), v.bytes()), c.epoch()));
        }
        try {
            ModelRef sref = services.blobs().put(state);
            ModelRef gref = services.blobs().put(v.gradient());
            return Effect().persist(new HandedOff(c.round(), c.attempt(), c.toEdge(),
                    new Handoff(sref, gref, v.lastCursor(), v.lastLoss(), v.lastCorrect(), v.bytes()), c.epoch()));
        } catch (RuntimeException e) {
            ctx.getLog().warn("{}: handed-off state not made durable: {}", id, e.toString());
            return Effect().none();
        }
    }

    private Effect<Event, State> onTakeOver(State s, TakeOver c) {
        RoundInstruction ins = c.instruction();
        String fence = fenced(s, c.epoch(), true);
        if (fence != null) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(fence)));
        }
        Handover v = c.handover();
        Handoff h = c.handoff() != null ? c.handoff()
                : new Handoff(null, null, v.lastCursor(), v.lastLoss(), v.lastCorrect(), v.bytes());
        byte[] gradient;
        try {
            prepareServer(ins);
            if (v != null) {
                server.load(ModelStateCodec.decode(v.state()));
                gradient = v.gradient();
            } else {
                if (h.state() == null) {
                    server.loadWeights(ModelBlobs.select(ModelBlobs.getWeights(services.blobs(), ins.global()),
                            server.parameterNames()), true);
                } else {
                    server.load(ModelBlobs.getState(services.blobs(), h.state()));
                }
                gradient = h.lastGradient() == null ? new byte[0] : services.blobs().get(h.lastGradient());
            }
        } catch (RuntimeException e) {
            closeServer();
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "edge cannot take over round " + ins.round() + ": " + e.getMessage())));
        }
        goLive(ins, h.lastCursor() + 1);
        lastGradient = gradient;
        // Answer first, persist beside: steps that arrive meanwhile wait in the stash for the write.
        c.replyTo().tell(StatusReply.success(new Resume(h.lastCursor(), gradient, h.lastLoss(), h.lastCorrect())));
        return Effect().persist(new TookOver(ins, c.fromEdge(), h, node(), c.epoch()));
    }

    private Effect<Event, State> onFinish(State s, FinishRound c) {
        String fence = fenced(s, c.epoch(), false);
        if (fence != null) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(fence)));
        }
        if (!live(c.round(), c.attempt())) {
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
                        s.lastServerWeights(), s.roundsFinished(), s.epoch()).withEpoch(e.epoch()))
                .onEvent(RoundFinished.class, (s, e) -> new State(id, s.round(), s.attempt(), false, s.edgeId(),
                        s.model(), s.dataset(), s.cut(), s.learningRate(), s.seed(), s.global(), e.serverWeights(),
                        s.roundsFinished() + 1, s.epoch()))
                .onEvent(HandedOff.class, (s, e) -> new State(id, e.round(), e.attempt(), false, s.edgeId(),
                        s.model(), s.dataset(), s.cut(), s.learningRate(), s.seed(), s.global(),
                        s.lastServerWeights(), s.roundsFinished(), s.epoch()).withEpoch(e.epoch()))
                .onEvent(Checkpointed.class, (s, e) -> s)
                .onEvent(TookOver.class, (s, e) -> {
                    RoundInstruction i = e.instruction();
                    return new State(id, i.round(), i.attempt(), true, edgeOf(id), i.model(), i.dataset(), i.cut(),
                            i.learningRate(), i.seed(), i.global(), s.lastServerWeights(), s.roundsFinished(),
                            s.epoch()).withEpoch(e.epoch());
                })
                .build();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder().onSignal(PostStop.instance(), s -> closeServer()).build();
    }

    private void releaseServer() {
        if (server != null) {
            services.halves().give(serverKey, server);
            server = null;
            serverKey = "";
        }
    }

    private void closeServer() {
        if (server != null) {
            server.close();
            server = null;
            serverKey = "";
        }
    }
}
