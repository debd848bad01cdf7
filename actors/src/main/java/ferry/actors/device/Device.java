package ferry.actors.device;

import ferry.actors.edge.EdgeDirectory;
import ferry.actors.node.NodeHealth;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.edge.RoundMaster;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.RoundInstruction;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.select.DataSelector;
import ferry.zoo.select.DataSelectors;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.SampleLosses;
import ferry.zoo.train.SgdConfig;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.TensorCodec;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.Net;
import ferry.zoo.train.SgdConfig;
import ferry.zoo.train.StepResult;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
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
 * A (simulated) device: its profile, its data partition, the edge it is attached to, and, while a round runs,
 * its half of the model. Its raw samples never leave this actor: only activations (split) or weights (FedAvg) do.
 * A round is a chain of self-messages, one batch each, so the device stays responsive between batches.
 */
public final class Device extends EventSourcedBehavior<Device.Command, Device.Event, Device.State> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Device");

    public sealed interface Command extends CborSerializable {}

    /**
     * Registers a device. {@code tokenHash}: for a real device outside the cluster (its data partition is
     * {@link DataPartition#remote}), the SHA-256 of the token it authenticates its gRPC calls with; null for a
     * simulated device.
     */
    public record Register(DeviceProfile profile, DataPartition data, String tokenHash,
                           ActorRef<StatusReply<Done>> replyTo) implements Command {
        public Register(DeviceProfile profile, DataPartition data, ActorRef<StatusReply<Done>> replyTo) {
            this(profile, data, null, replyTo);
        }
    }

    /** Attach to an edge server; the edge must accept (registered, not full). */
    public record AttachTo(String edgeId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record TrainRound(RoundInstruction instruction, ActorRef<DeviceResult> replyTo) implements Command {}

    /**
     * A mobility event: move to another edge. Mid-round, the edge-side state follows (FedFly) or is lost and the
     * round restarts there (baseline), as the round's instruction says. A refused move (unknown, full or dead
     * edge) is answered with an error and the device keeps training where it is.
     */
    public record MoveTo(String edgeId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record Get(ActorRef<State> replyTo) implements Command {}

    /** A command for a real device's round, handled by {@link RemoteTraining} (see there). */
    public record Remote(RemoteTraining.Command command) implements Command {}

    record EdgeAnswered(String edgeId, boolean accepted, String reason, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    /** The answer of {@code edge} to the round's start ({@code error} null: begun). */
    record OffloadBegun(int round, int attempt, String edge, String error) implements Command {}

    /**
     * The round's start has been out at {@code edge} for a while: is its node still there? ({@code checked}: it
     * was, look again later.)
     */
    record BeginOverdue(int round, int attempt, String edge, boolean checked) implements Command {}

    record NextBatch(int round, int attempt) implements Command {}

    /** The answer (or the silence) of {@code edge} to step {@code cursor}. */
    record StepAnswered(int round, int attempt, long cursor, String edge, OffloadedTraining.StepReply reply,
                        String failure)
            implements Command {}

    /**
     * {@code edge}'s answer to the round's end: the server half's weights, or why not ({@code noAnswer}: the ask
     * timed out, rather than the edge refusing).
     */
    record ServerFinished(int round, int attempt, String edge, ModelRef serverWeights, String failure,
                          boolean noAnswer) implements Command {}

    /** The round's end has been out at {@code edge} for a while: is its node still there? */
    record FinishOverdue(int round, int attempt, String edge, boolean checked) implements Command {}

    /**
     * The edge holding the finished server half cannot deliver it ({@code problem}): rebuild the half on
     * {@code target} (null: find a live edge; the same edge: rebuild in place) and finish there.
     */
    record FinishLost(int round, int attempt, String edge, String problem, String target) implements Command {}

    record MoveAdmitted(String toEdge, boolean accepted, String reason) implements Command {}

    record ReplayAnswered(int round, int attempt, long cursor, String error) implements Command {}

    /**
     * Before a round's first step: whether its edge's node can serve ({@code problem} null) and, if not, the
     * live edge it starts on instead ({@code target}, once looked up).
     */
    record EdgeAtStart(int round, int attempt, String edge, String problem, String target) implements Command {}

    /** The step in hand has been at {@code edge} for a while: is its node still there? */
    record StepOverdue(int round, int attempt, long cursor, String edge, String askFailure, int checks)
            implements Command {}

    /** {@code problem}: why the edge's node cannot serve (null: it can; the step is only slow). */
    record EdgeChecked(int round, int attempt, long cursor, String edge, String problem, String askFailure,
                       int checks) implements Command {}

    /** Where to rebuild the server half of a dead edge ({@code target} null: no live edge with room). */
    record FailoverTo(int round, int attempt, long cursor, String deadEdge, String problem, String target)
            implements Command {}

    record HandedOff(int round, int attempt, OffloadedTraining.Handover handover, String failure)
            implements Command {}

    /** A FedFly move has begun: the server half is about to be established elsewhere, under a new epoch. */
    record AdvanceEpoch(int round, int attempt, String why) implements Command {}

    record TookOver(int round, int attempt, OffloadedTraining.Resume resume, String failure) implements Command {}

    public sealed interface Event extends CborSerializable {}

    /** {@code tokenHash}: see {@link Register}; null for simulated devices (and in journals from before it). */
    public record Registered(DeviceProfile profile, DataPartition data, String tokenHash) implements Event {}

    public record AttachedTo(String edgeId) implements Event {}

    /**
     * The attachment epoch grows: the device is about to (re)establish its server half on an edge (a move, a
     * failover, a rebuild, a restart elsewhere). Made durable before anything is sent under it, so no edge ever
     * sees an epoch the device could forget in a crash; edges refuse commands of older epochs (fencing).
     */
    public record EpochAdvanced(long epoch, String why) implements Event {}

    /**
     * The batch log: batches [from, to) of a round's attempt were trained on both halves, the server half on
     * {@code edgeId} (null: the whole model locally). Written per stretch on one edge (at a move and at the
     * round's end) rather than per batch, which keeps a journal write out of every step; a crash loses only an
     * attempt that is re-run as a whole anyway.
     */
    public record BatchesDone(String sessionId, int round, int attempt, long from, long to, String edgeId)
            implements Event {}

    /**
     * What a round cost the device's battery: the FLOPs it computed and the bits its radio moved, priced by the
     * energy model (see {@link EnergyUse}). A device at zero takes part in no further round.
     */
    public record EnergySpent(String sessionId, int round, int attempt, double joules) implements Event {}

    /**
     * @param batteryJoules what is left of the battery: the profile's capacity at registration, less every
     *                      round's {@link EnergySpent}
     * @param epoch         the attachment epoch ({@link EpochAdvanced}): every command to an edge carries it
     */
    public record State(String deviceId, DeviceProfile profile, DataPartition data, String edgeId,
                        double batteryJoules, long epoch, String tokenHash) implements CborSerializable {
        public boolean registered() {
            return data != null;
        }

        /** A real device outside the cluster, training over gRPC (see {@link RemoteTraining}). */
        public boolean remote() {
            return data != null && data.remote();
        }

        /** The share of the battery left, 0..1. */
        public double batteryFraction() {
            return profile == null || profile.batteryJoules() == 0 ? 0 : batteryJoules / profile.batteryJoules();
        }
    }

    /** The round in progress: not persisted; a restarted session re-sends the round. */
    private static final class Run {
        final RoundInstruction ins;
        final ActorRef<DeviceResult> replyTo;
        final ImageDataset data;
        final BatchPlan plan;
        final long total;
        final long partitionSize;
        final long started = System.nanoTime();
        long cursor;
        double lossSum;
        long correct;
        long samples;
        long bytesUp;
        long bytesDown;
        /** The cursor of the batch whose gradient is awaited (-1: none) and when it was sent. */
        long awaiting = -1;
        long sentAt;
        final java.util.List<Double> stepMillis = new java.util.ArrayList<>();
        /** Whether a failed BeginRound has already been looked into (failover at the start happens once). */
        boolean beginRetried;
        /** Whether the edge has begun the round (steps may go out). */
        boolean begun;
        /** The edge asked to finish the round (null: not finishing, or not there any more). */
        String finishingAt;
        /** The edge serving this round now; changes when the device moves. */
        String edge;
        /**
         * The edge the device was attached to when the round began: it averages the device's update first
         * (hierarchical FedAvg), wherever a move took the device since, so a move never changes the arithmetic.
         */
        String homeEdge;
        /** The stretch of batches not yet in the batch log, and the edge it ran on. */
        long segmentStart;
        String segmentEdge;
        final java.util.ArrayDeque<ferry.actors.session.MobilityEvent> script;
        Move move;
        /** The latest completed move of this round, until its first batch on the new edge is done. */
        Move lastOpenMove;
        /** The old edge's answer to the step in hand, kept while a move is decided. */
        StepAnswered held;
        /**
         * The last durable state of the edge's half (null: the round's global model) and the first step it does
         * not hold; the activations sent since are kept, so a lost edge is rebuilt by replaying them.
         */
        ModelRef checkpoint;
        long checkpointCursor;
        final java.util.ArrayDeque<Sent> replay = new java.util.ArrayDeque<>();
        Sent inFlightSent;
        int rebuilds;
        final java.util.List<MoveRecord> moves = new java.util.ArrayList<>();
        /** The attachment epoch every command to an edge carries; durable (the state's) whenever one is sent. */
        long epoch;
        /** The trained client half, stored while the edge stores its half. */
        ModelRef clientWeights;

        Run(RoundInstruction ins, ActorRef<DeviceResult> replyTo, ImageDataset data, int[] indices) {
            this.ins = ins;
            this.replyTo = replyTo;
            this.data = data;
            this.plan = new BatchPlan(indices, ins.batchSize(), ins.seed() * 7919 + ins.round());
            this.total = (long) plan.batchesPerEpoch() * ins.localEpochs();
            this.partitionSize = indices.length;
            this.script = new java.util.ArrayDeque<>(ins.moves());
        }

        boolean is(int round, int attempt) {
            return ins.round() == round && ins.attempt() == attempt;
        }

        void add(float loss, int right, int n) {
            lossSum += loss * n;
            correct += right;
            samples += n;
        }
    }

    /** A step as sent: what an edge needs to redo it. */
    private record Sent(long cursor, byte[] activations, int[] labels) {}

    static final int MAX_REBUILDS = 3;

    /** A move in progress. */
    private static final class Move {
        final String from;
        final String to;
        final long atBatch;
        final long started = System.nanoTime();
        final ActorRef<StatusReply<Done>> replyTo;
        long bytes;
        boolean done;
        int batchesInWindow;
        /** A move back to the old edge after the new one failed, and why the move failed. */
        boolean returning;
        /** A rebuild from the last checkpoint (the old edge lost the state), and why. */
        boolean rebuild;
        /** FedFly asks the new edge to admit the device and the old one to hand over at once. */
        Boolean admitted;
        boolean handoffAnswered;
        String handoffFailure;
        String refusal;
        OffloadedTraining.Handover handover;

        Move(String from, String to, long atBatch, ActorRef<StatusReply<Done>> replyTo) {
            this.from = from;
            this.to = to;
            this.atBatch = atBatch;
            this.replyTo = replyTo;
        }
    }

    private final String deviceId;
    private final FerryServices services;
    /**
     * After a step's ask failed, how many more reachability checks (one per failover check-after) the device
     * makes before it decides the edge's node is alive and rebuilds the half there instead of failing over.
     */
    private static final int ASK_FAILURE_CHECKS = 10;
    /** How long a step may be at the edge before the device asks whether the edge's node is still there. */
    private final Duration failoverCheck;
    private final ActorContext<Command> ctx;
    private Run run;
    /** A real device's rounds (only used when the device is remote). */
    private final RemoteTraining remote;
    /** The live model half, reused across rounds while model, cut and learning rate stay the same. */
    private Net model;
    private String modelKey = "";

    private Device(ActorContext<Command> ctx, String deviceId, FerryServices services) {
        super(PersistenceId.of(TYPE_KEY.name(), deviceId));
        this.ctx = ctx;
        this.deviceId = deviceId;
        this.services = services;
        this.failoverCheck = ctx.getSystem().settings().config().getDuration("ferry.failover.check-after");
        this.remote = new RemoteTraining(ctx, deviceId, services, Effect());
    }

    public static Behavior<Command> create(String deviceId, FerryServices services) {
        return Behaviors.setup(ctx -> new Device(ctx, deviceId, services));
    }

    @Override
    public State emptyState() {
        return new State(deviceId, null, null, null, 0, 0, null);
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Register.class, (s, c) -> c.profile().equals(s.profile()) && c.data().equals(s.data())
                        && java.util.Objects.equals(c.tokenHash(), s.tokenHash())
                        ? Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.ack()))
                        : Effect().persist(new Registered(c.profile(), c.data(), c.tokenHash()))
                                .thenRun(x -> c.replyTo().tell(StatusReply.ack())))
                .onCommand(AttachTo.class, this::onAttachTo)
                .onCommand(EdgeAnswered.class, this::onEdgeAnswered)
                .onCommand(TrainRound.class, this::onTrainRound)
                .onCommand(OffloadBegun.class, this::onOffloadBegun)
                .onCommand(BeginOverdue.class, this::onBeginOverdue)
                .onCommand(NextBatch.class, this::onNextBatch)
                .onCommand(StepAnswered.class, this::onStepAnswered)
                .onCommand(ServerFinished.class, this::onServerFinished)
                .onCommand(FinishOverdue.class, this::onFinishOverdue)
                .onCommand(FinishLost.class, this::onFinishLost)
                .onCommand(MoveTo.class, this::onMoveTo)
                .onCommand(MoveAdmitted.class, this::onMoveAdmitted)
                .onCommand(HandedOff.class, this::onHandedOff)
                .onCommand(TookOver.class, this::onTookOver)
                .onCommand(ReplayAnswered.class, this::onReplayAnswered)
                .onCommand(StepOverdue.class, this::onStepOverdue)
                .onCommand(EdgeAtStart.class, this::onEdgeAtStart)
                .onCommand(EdgeChecked.class, this::onEdgeChecked)
                .onCommand(FailoverTo.class, this::onFailoverTo)
                .onCommand(AdvanceEpoch.class, this::onAdvanceEpoch)
                .onCommand(Get.class, (s, c) -> Effect().none().thenRun(x -> c.replyTo().tell(x)))
                .onCommand(Remote.class, (s, c) -> remote.on(s, c.command()))
                .build();
    }

    private Effect<Event, State> onAttachTo(State s, AttachTo c) {
        ctx.ask(EdgeServer.AttachReply.class, services.edge(c.edgeId()), services.askTimeout(),
                r -> new EdgeServer.Attach(deviceId, r),
                (reply, failure) -> reply != null
                        ? new EdgeAnswered(c.edgeId(), reply.accepted(), reply.reason(), c.replyTo())
                        : new EdgeAnswered(c.edgeId(), false, "edge '" + c.edgeId() + "' did not answer: "
                                + failure.getMessage(), c.replyTo()));
        return Effect().none();
    }

    private Effect<Event, State> onEdgeAnswered(State s, EdgeAnswered c) {
        if (!c.accepted()) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(c.reason())));
        }
        String old = s.edgeId();
        return Effect().persist(new AttachedTo(c.edgeId())).thenRun(x -> {
            if (old != null && !old.equals(c.edgeId())) {
                detachFrom(old);
            }
            c.replyTo().tell(StatusReply.ack());
        });
    }

    private Effect<Event, State> onTrainRound(State s, TrainRound c) {
        RoundInstruction ins = c.instruction();
        String problem = null;
        if (!s.registered()) {
            problem = "device '" + deviceId + "' is not registered";
        } else if (!s.data().dataset().equals(ins.dataset())) {
            problem = "device '" + deviceId + "' holds " + s.data().dataset() + ", the round needs " + ins.dataset();
        } else if (ins.offloaded() && s.edgeId() == null) {
            problem = "device '" + deviceId + "' is attached to no edge";
        } else if (s.batteryJoules() <= 0) {
            problem = "device '" + deviceId + "' has an empty battery";
        }
        if (problem == null && s.remote()) {
            return remote.onTrainRound(s, c); // the device trains outside the cluster, over gRPC
        }
        if (problem == null) {
            try {
                ImageDataset train = services.datasets().train(ins.dataset());
                run = new Run(ins, c.replyTo(), train, select(ins, train, services.datasets().partition(s.data())));
                prepareModel(ins);
            } catch (RuntimeException e) {
                problem = "device '" + deviceId + "' cannot start round " + ins.round() + ": " + e.getMessage();
            }
        }
        if (problem != null) {
            run = null;
            DeviceResult failed = DeviceResult.failed(deviceId, ins, problem);
            return Effect().none().thenRun(x -> c.replyTo().tell(failed));
        }
        run.homeEdge = s.edgeId();
        run.epoch = s.epoch();
        if (ins.offloaded()) {
            run.edge = s.edgeId();
            run.segmentEdge = s.edgeId();
            if (ins.parallel()) {
                beginOnEdge(run);
            } else { // a round never starts on an edge whose node is gone: see onEdgeAtStart
                String edge = run.edge;
                askIfLost(edge, lost -> new EdgeAtStart(ins.round(), ins.attempt(), edge, lost, null));
            }
        } else {
            ctx.getSelf().tell(new NextBatch(ins.round(), ins.attempt()));
        }
        return Effect().none();
    }

    /**
     * The samples this round trains on: all of the partition, or the share the round's data selector picks
     * (a fresh pick each round, seeded by session seed and round). A loss-scoring selector scores the samples
     * with the round's global model, here on the device: only indices come out.
     */
    private int[] select(RoundInstruction ins, ImageDataset data, int[] partition) {
        DataSelector selector = DataSelectors.byName(ins.selector());
        if (selector == DataSelectors.NONE || ins.selectionFraction() >= 1) {
            return partition;
        }
        long seed = ins.seed() * 1_000_003L + ins.round();
        if (!selector.needsScorer()) {
            return selector.select(data, partition, ins.selectionFraction(), seed, null);
        }
        ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
        try (MonolithicModel global = new MonolithicModel(spec, ins.seed(), SgdConfig.DEFAULT)) {
            global.loadWeights(ModelBlobs.getWeights(services.blobs(), ins.global()), true);
            return selector.select(data, partition, ins.selectionFraction(), seed,
                    (d, idx) -> SampleLosses.of(List.of(global), d, idx, 500));
        }
    }

    /** Asks the run's current edge to start the round from the global model. */
    private void beginOnEdge(Run r) {
        RoundInstruction ins = r.ins;
        String edge = r.edge;
        if (ins.parallel()) {
            ctx.ask(StatusReply.class, services.roundMaster(ins.sessionId(), edge), services.askTimeout(),
                    ref -> new RoundMaster.Join(ins, deviceId, castReply(ref)),
                    (reply, failure) -> new OffloadBegun(ins.round(), ins.attempt(), edge,
                            failure != null ? "edge did not answer: " + failure.getMessage()
                                    : reply.isError() ? reply.getError().getMessage() : null));
            return;
        }
        ctx.ask(StatusReply.class, services.offloaded(ins.sessionId(), deviceId, edge), services.askTimeout(),
                ref -> new OffloadedTraining.BeginRound(ins, edge, r.epoch, castReply(ref)),
                (reply, failure) -> new OffloadBegun(ins.round(), ins.attempt(), edge,
                        failure != null ? "edge did not answer: " + failure.getMessage()
                                : reply.isError() ? reply.getError().getMessage() : null));
        // An edge that dies just as the round starts would otherwise cost a whole ask timeout.
        ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new BeginOverdue(ins.round(), ins.attempt(), edge, false));
    }

    private Effect<Event, State> onBeginOverdue(State s, BeginOverdue c) {
        if (run == null || !run.is(c.round(), c.attempt()) || run.begun || !c.edge().equals(run.edge)
                || run.cursor > 0) {
            return Effect().none();
        }
        if (c.checked()) {
            ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new BeginOverdue(c.round(), c.attempt(), c.edge(), false));
            return Effect().none();
        }
        askIfLost(c.edge(), problem -> problem == null ? new BeginOverdue(c.round(), c.attempt(), c.edge(), true)
                : new EdgeAtStart(c.round(), c.attempt(), c.edge(), problem, null));
        return Effect().none();
    }

    /** The two kinds of edge entity take different command types; the message built matches the recipient. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static RecipientRef<Object> castRecipient(RecipientRef<?> r) {
        return (RecipientRef) r;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static <T> ActorRef<StatusReply<T>> castReply(ActorRef<StatusReply> r) {
        return (ActorRef) r;
    }

    /** Loads the global weights of this device's half, building the half only when the model changed. */
    private void prepareModel(RoundInstruction ins) {
        ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
        SgdConfig sgd = new SgdConfig(ins.learningRate(), SgdConfig.DEFAULT.momentum(), 0f);
        String key = ins.model() + "/" + ins.dataset() + "/" + ins.offloaded() + "/" + ins.cut() + "/"
                + ins.learningRate();
        if (model == null || !key.equals(modelKey)) {
            closeModel();
            model = ins.offloaded() ? new ClientHalf(spec, ins.cut(), ins.seed(), sgd)
                    : new MonolithicModel(spec, ins.seed(), sgd);
            modelKey = key;
        }
        model.loadWeights(ModelBlobs.select(ModelBlobs.getWeights(services.blobs(), ins.global()),
                model.parameterNames()), true);
    }

    private Effect<Event, State> onOffloadBegun(State s, OffloadBegun c) {
        if (run == null || !run.is(c.round(), c.attempt()) || run.begun || !c.edge().equals(run.edge)) {
            return Effect().none(); // an edge the round has left (it failed over at the start), or a repeat
        }
        if (c.error() != null && !run.ins.parallel() && !run.beginRetried) {
            // The edge may have died since the round's start was checked: look again, and fail over if so.
            Run r = run;
            r.beginRetried = true;
            String edge = r.edge;
            askIfLost(edge, problem -> problem == null ? new OffloadBegun(c.round(), c.attempt(), edge, c.error())
                    : new EdgeAtStart(c.round(), c.attempt(), edge, problem, null));
            return Effect().none();
        }
        if (c.error() != null) {
            return fail(c.error());
        }
        run.begun = true;
        ctx.getSelf().tell(new NextBatch(c.round(), c.attempt()));
        return Effect().none();
    }

    /** Whether the next thing the round does is a plain step (no move due, batches left). */
    private static boolean plainStepNext(Run r) {
        return r.ins.offloaded() && r.move == null && r.awaiting < 0 && r.cursor < r.total
                && (r.script.isEmpty() || r.script.peek().atBatch() != r.cursor || r.script.peek().inHand());
    }

    /** Client forward of batch {@code b} and the step to the edge; a scripted in-hand move starts right after. */
    private void sendStep(Run r, Batch b) {
        int round = r.ins.round();
        int attempt = r.ins.attempt();
        r.sentAt = System.nanoTime();
        byte[] act = TensorCodec.encode(((ClientHalf) model).forward(b));
        r.bytesUp += act.length + 4L * b.size();
        long cursor = r.cursor;
        String sentTo = r.edge;
        r.awaiting = cursor;
        r.inFlightSent = new Sent(cursor, act, b.labels());
        if (services.faults().silentFrom(deviceId, cursor)) {
            ctx.getLog().warn("{}: injected fault: the device goes silent at step {}", deviceId, cursor);
            return;
        }
        if (r.ins.parallel()) {
            ctx.ask(OffloadedTraining.StepReply.class, services.roundMaster(r.ins.sessionId(), r.edge),
                    services.askTimeout(),
                    ref -> new RoundMaster.Step(round, attempt, deviceId, cursor, act, b.labels(), ref),
                    (reply, failure) -> new StepAnswered(round, attempt, cursor, sentTo, reply,
                            failure == null ? null : "edge did not answer step " + cursor + ": "
                                    + failure.getMessage()));
            return;
        }
        ctx.ask(OffloadedTraining.StepReply.class, services.offloaded(r.ins.sessionId(), deviceId, r.edge),
                services.askTimeout(),
                ref -> new OffloadedTraining.Step(round, attempt, r.epoch, cursor, act, b.labels(), ref),
                (reply, failure) -> new StepAnswered(round, attempt, cursor, sentTo, reply,
                        failure == null ? null : "edge did not answer step " + cursor + ": " + failure.getMessage()));
        ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new StepOverdue(round, attempt, cursor, sentTo, null, 0));
        if (!r.script.isEmpty() && r.script.peek().atBatch() == cursor && r.script.peek().inHand()) {
            // A scripted move happens while this batch is at the edge, as a real device leaves mid-step.
            startMove(r, r.script.poll().toEdge(), null);
        }
    }

    private Effect<Event, State> onNextBatch(State s, NextBatch c) {
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        Run r = run;
        if (r.move != null || r.awaiting >= 0) {
            return Effect().none(); // a move is under way (or a step in flight): it resumes the loop itself
        }
        while (!r.script.isEmpty() && r.script.peek().atBatch() < r.cursor) {
            r.script.poll(); // a scripted move for a batch already passed (e.g. after a restart)
        }
        if (r.ins.offloaded() && !r.script.isEmpty() && r.script.peek().atBatch() == r.cursor
                && !r.script.peek().inHand() && r.cursor < r.total) {
            startMove(r, r.script.poll().toEdge(), null); // between batches: nothing in hand
            return Effect().none();
        }
        if (r.cursor >= r.total) {
            return finishRound(s, r);
        }
        Batch b = r.data.batch(r.plan.batch(r.cursor));
        try {
            if (!r.ins.offloaded()) {
                StepResult res = ((MonolithicModel) model).step(b);
                r.add(res.loss(), res.correct(), b.size());
                return batchDone(r, null, true, null);
            }
            sendStep(r, b);
            return Effect().none();
        } catch (RuntimeException e) {
            return fail("training step " + r.cursor + " failed: " + e.getMessage());
        }
    }

    private Effect<Event, State> onStepAnswered(State s, StepAnswered c) {
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        if (c.cursor() != run.awaiting || !c.edge().equals(run.edge)) {
            return Effect().none(); // about a step the device no longer waits for there
        }
        if (run.move != null) {
            run.held = c; // decided by the move: dropped if it goes ahead (the new edge delivers it), used if not
            return Effect().none();
        }
        OffloadedTraining.StepReply reply = c.reply();
        if (reply != null && !run.ins.parallel() && reply.epoch() != run.epoch) {
            // Served under an epoch the device has left behind (its half was re-established since): never applied.
            services.metrics().fenced();
            ctx.getLog().info("{}: dropped the answer to step {} of epoch {} (now {})", deviceId, c.cursor(),
                    reply.epoch(), run.epoch);
            return Effect().none();
        }
        if (run.ins.parallel() && (c.failure() != null || !reply.ok())) {
            // a shared server half cannot be rebuilt for one device: this device's round ends here
            return fail(c.failure() != null ? c.failure() : "edge refused step " + reply.cursor() + ": "
                    + reply.error());
        }
        if (c.failure() != null) {
            // The step's ask failed: if the edge's node is lost, fail over to another edge; if not, rebuild there.
            String edge = run.edge;
            askIfLost(edge, problem -> new EdgeChecked(c.round(), c.attempt(), c.cursor(), edge, problem,
                    c.failure(), 0));
            return Effect().none();
        }
        if (!reply.ok()) {
            return rebuild(run, run.edge, "edge refused step " + reply.cursor() + ": " + reply.error());
        }
        if (reply.checkpoint() != null) {
            setCheckpoint(run, reply.checkpoint(), reply.cursor() + 1);
        }
        Run r = run;
        Effect<Event, State> e = applyGradient(r, reply.gradient(), reply.loss(), reply.correct(), true, null);
        double millis = (System.nanoTime() - r.sentAt) / 1e6; // a whole batch: forward, edge, backward
        r.stepMillis.add(millis);
        services.metrics().batch(deviceId, c.edge(), millis);
        return e;
    }

    /**
     * Client backward for the step in hand with the gradient the edge returned, then the batch log;
     * {@code first} is an event to persist with it (the re-attachment after a move), or null.
     */
    private Effect<Event, State> applyGradient(Run r, byte[] gradient, float loss, int correct,
                                               boolean trainedHere, Event first) {
        try {
            ((ClientHalf) model).backward(TensorCodec.decode(gradient));
        } catch (RuntimeException e) {
            return fail("bad cut-layer gradient for step " + r.awaiting + ": " + e.getMessage());
        }
        r.bytesDown += gradient.length;
        Sent sent = r.inFlightSent; // the step in hand, which every gradient applied here belongs to
        r.add(loss, correct, sent.labels().length);
        if (sent.cursor() == r.awaiting && r.awaiting >= r.checkpointCursor) {
            r.replay.add(sent);
        }
        r.inFlightSent = null;
        return batchDone(r, r.edge, trainedHere, first);
    }

    /**
     * Logs the batch as trained (the journal is the per-device batch log), then goes on to the next one.
     * {@code trainedHere} is false for a step the old edge trained and the new one only delivered.
     */
    /** The batch log entry for the stretch since the last one (null if empty); a new stretch starts here. */
    private static BatchesDone closeSegment(Run r) {
        BatchesDone e = r.cursor > r.segmentStart ? new BatchesDone(r.ins.sessionId(), r.ins.round(),
                r.ins.attempt(), r.segmentStart, r.cursor, r.segmentEdge) : null;
        r.segmentStart = r.cursor;
        r.segmentEdge = r.edge;
        return e;
    }

    private Effect<Event, State> persistThen(List<Event> events, Runnable then) {
        List<Event> present = events.stream().filter(java.util.Objects::nonNull).toList();
        return present.isEmpty() ? Effect().none().thenRun(x -> then.run())
                : Effect().persist(present).thenRun(x -> then.run());
    }

    private Effect<Event, State> batchDone(Run r, String edge, boolean trainedHere, Event first) {
        r.cursor++;
        r.awaiting = -1;
        Move m = r.lastOpenMove;
        if (m != null && !m.done) {
            m.batchesInWindow++;
            if (trainedHere && edge != null && edge.equals(m.to)) {
                m.done = true;
                r.lastOpenMove = null;
                int i = r.moves.size() - 1;
                MoveRecord rec = r.moves.get(i);
                r.moves.set(i, new MoveRecord(deviceId, rec.fromEdge(), rec.toEdge(), rec.atBatch(), rec.mode(),
                        (System.nanoTime() - m.started) / 1e6, m.batchesInWindow, rec.bytesMoved(), null));
            }
        }
        if (first == null) {
            ctx.getSelf().tell(new NextBatch(r.ins.round(), r.ins.attempt()));
            return Effect().none();
        }
        return persistAndContinue(r, java.util.Arrays.asList(closeSegment(r), first));
    }

    /**
     * Persists the events and goes on with the round. A plain next step goes out first, so the journal write
     * overlaps the edge's work rather than the device's; anything else (a move due, the round's end) waits for it.
     */
    private Effect<Event, State> persistAndContinue(Run r, List<Event> events) {
        if (plainStepNext(r)) {
            try {
                sendStep(r, r.data.batch(r.plan.batch(r.cursor)));
            } catch (RuntimeException e) {
                return fail("training step " + r.cursor + " failed: " + e.getMessage());
            }
            return persistThen(events, () -> { });
        }
        return persistThen(events, () -> ctx.getSelf().tell(new NextBatch(r.ins.round(), r.ins.attempt())));
    }

    /** A durable state of the edge's half now holds every step before {@code cursor}: older replays go. */
    private static void setCheckpoint(Run r, ModelRef state, long cursor) {
        r.checkpoint = state;
        r.checkpointCursor = cursor;
        while (!r.replay.isEmpty() && r.replay.peek().cursor() < cursor) {
            r.replay.poll();
        }
    }

    /**
     * The edge lost the device's server half (it crashed, restarted, or its node died during a hand-off):
     * {@code edge} rebuilds it from the last checkpoint and the device replays the steps since, so no batch is
     * trained twice on the device and none is lost.
     */
    private Effect<Event, State> rebuild(Run r, String edge, String why) {
        services.metrics().failover();
        if (++r.rebuilds > MAX_REBUILDS) {
            return fail("edge failed " + MAX_REBUILDS + " times in this round; last: " + why);
        }
        ctx.getLog().warn("{}: {}; rebuilding the server half on '{}' from step {} and replaying {} step(s)",
                deviceId, why, edge, r.checkpointCursor, r.replay.size());
        Move m = r.move != null && r.move.to.equals(edge) ? r.move
                : new Move(r.edge, edge, r.awaiting >= 0 ? r.awaiting : r.cursor,
                        r.move != null ? r.move.replyTo : null);
        m.rebuild = true;
        m.refusal = why;
        r.move = m;
        // A new epoch first: whatever the lost (or only cut-off) half still has in flight is fenced off.
        long next = r.epoch + 1;
        return Effect().persist(new EpochAdvanced(next, "rebuild on '" + edge + "': " + why)).thenRun(x -> {
            r.epoch = next;
            askTakeOver(r, edge, m.from, new OffloadedTraining.Handoff(r.checkpoint, null, r.checkpointCursor - 1,
                    0, 0, 0), null);
        });
    }

    /**
     * Failover at a round's start: an edge whose node is unreachable gets no BeginRound (it would only time
     * out); the device attaches to the first live edge with room and starts the round there, from the global
     * model, so nothing is lost.
     */
    private Effect<Event, State> onEdgeAtStart(State s, EdgeAtStart c) {
        if (run == null || !run.is(c.round(), c.attempt()) || !c.edge().equals(run.edge) || run.cursor > 0
                || run.begun) {
            return Effect().none();
        }
        if (c.problem() == null) {
            beginOnEdge(run);
            return Effect().none();
        }
        if (c.target() == null) {
            ctx.pipeToSelf(liveEdgeOtherThan(c.edge()), (target, err) -> err != null || target == null
                    ? new OffloadBegun(c.round(), c.attempt(), c.edge(), "edge '" + c.edge() + "' cannot serve ("
                            + c.problem() + ") and no other edge can take the device")
                    : new EdgeAtStart(c.round(), c.attempt(), c.edge(), c.problem(), target));
            return Effect().none();
        }
        Run r = run;
        ctx.getLog().warn("{}: edge '{}' cannot serve ({}): round {} starts on '{}'", deviceId, c.edge(),
                c.problem(), c.round(), c.target());
        services.metrics().failover();
        services.edge(c.target()).tell(new EdgeServer.Attach(deviceId, ctx.getSystem().ignoreRef()));
        long next = r.epoch + 1;
        return Effect().persist(List.of(new AttachedTo(c.target()), new EpochAdvanced(next, "round " + c.round()
                + " starts on '" + c.target() + "': '" + c.edge() + "' cannot serve"))).thenRun(x -> {
            r.epoch = next;
            detachFrom(c.edge());
            r.edge = c.target();
            r.segmentEdge = c.target();
            r.homeEdge = c.target();
            beginOnEdge(r);
        });
    }

    /** Whether the run still waits for {@code cursor} from {@code edge}, with no move under way. */
    private boolean stillWaiting(int round, int attempt, long cursor, String edge) {
        return run != null && run.is(round, attempt) && run.awaiting == cursor && edge.equals(run.edge)
                && run.move == null && !run.ins.parallel();
    }

    /**
     * Fast failover, step 1: a step is overdue, so ask the edge's registration where its node is and the
     * failure detector whether that node is reachable. A merely slow edge is asked again a little later; the
     * device never fails over because of slowness alone, only once the cluster sees the node as unreachable
     * (which takes the failure detector's acceptable heartbeat pause, not the seconds until it is downed).
     */
    private Effect<Event, State> onStepOverdue(State s, StepOverdue c) {
        if (!stillWaiting(c.round(), c.attempt(), c.cursor(), c.edge())) {
            return Effect().none();
        }
        askIfLost(c.edge(), problem -> new EdgeChecked(c.round(), c.attempt(), c.cursor(), c.edge(), problem,
                c.askFailure(), c.checks()));
        return Effect().none();
    }

    /**
     * Asks the edge's registration where its node is and sends this device {@code then} of why the cluster
     * counts that node as lost ({@link NodeHealth#lost}), or of null: the node is there, or the registry did not
     * answer in time (the caller looks again later rather than failing over on a guess).
     */
    private void askIfLost(String edge, java.util.function.Function<String, Command> then) {
        ctx.ask(EdgeServer.State.class, services.edge(edge), services.askTimeout(), EdgeServer.Get::new,
                (st, failure) -> then.apply(failure != null ? null : NodeHealth.lost(ctx.getSystem(), st.address())));
    }

    private Effect<Event, State> onEdgeChecked(State s, EdgeChecked c) {
        if (!stillWaiting(c.round(), c.attempt(), c.cursor(), c.edge())) {
            return Effect().none();
        }
        if (c.problem() == null && c.askFailure() != null && c.checks() >= ASK_FAILURE_CHECKS) {
            // The step's ask failed, yet the edge's node has stayed reachable: rebuild the half on that edge.
            return rebuild(run, run.edge, c.askFailure());
        }
        if (c.problem() == null) {
            // Slow, or dead but not yet seen so by the failure detector (on a loaded machine that can take longer
            // than an ask): look again shortly.
            ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new StepOverdue(c.round(), c.attempt(), c.cursor(),
                    c.edge(), c.askFailure(), c.askFailure() == null ? 0 : c.checks() + 1));
            return Effect().none();
        }
        ctx.pipeToSelf(liveEdgeOtherThan(c.edge()), (target, err) -> new FailoverTo(c.round(), c.attempt(),
                c.cursor(), c.edge(), c.problem(), err == null ? target : null));
        return Effect().none();
    }

    /**
     * Fast failover, step 2: the first edge in the directory, other than the dead one, that is registered,
     * reachable and has room (or already holds this device); null when there is none.
     */
    private CompletionStage<String> liveEdgeOtherThan(String dead) {
        Duration t = services.askTimeout();
        return AskPattern.<EdgeDirectory.Command, EdgeDirectory.State>ask(services.edgeDirectory(),
                        EdgeDirectory.List_::new, t, ctx.getSystem().scheduler())
                .thenCompose(dir -> {
                    List<CompletableFuture<EdgeServer.State>> asks = new java.util.ArrayList<>();
                    for (String e : dir.edges()) {
                        if (!e.equals(dead)) {
                            asks.add(AskPattern.<EdgeServer.Command, EdgeServer.State>ask(services.edge(e),
                                    EdgeServer.Get::new, t, ctx.getSystem().scheduler()).toCompletableFuture());
                        }
                    }
                    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).handle((x, err) -> {
                        for (CompletableFuture<EdgeServer.State> f : asks) {
                            if (f.isCompletedExceptionally()) {
                                continue;
                            }
                            EdgeServer.State e = f.join();
                            if (e.registered() && NodeHealth.problem(ctx.getSystem(), e.address()) == null
                                    && (e.devices().contains(deviceId) || e.devices().size() < e.capacity())) {
                                return e.edgeId();
                            }
                        }
                        return null;
                    });
                });
    }

    /** Fast failover, step 3: rebuild the half on the live edge from its last checkpoint and replay since. */
    private Effect<Event, State> onFailoverTo(State s, FailoverTo c) {
        if (!stillWaiting(c.round(), c.attempt(), c.cursor(), c.deadEdge())) {
            return Effect().none();
        }
        if (c.target() == null) {
            ctx.getLog().warn("{}: edge '{}' cannot serve ({}) and no other edge can take the device; waiting",
                    deviceId, c.deadEdge(), c.problem());
            ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new StepOverdue(c.round(), c.attempt(), c.cursor(),
                    c.deadEdge(), null, 0));
            return Effect().none();
        }
        // The live edge learns it has the device (its capacity and device list stay true); no admission round
        // trip: the target was chosen because it had room.
        services.edge(c.target()).tell(new EdgeServer.Attach(deviceId, ctx.getSystem().ignoreRef()));
        return rebuild(run, c.target(), "edge '" + c.deadEdge() + "' cannot serve (" + c.problem()
                + "): failing over to '" + c.target() + "'");
    }

    private Effect<Event, State> onAdvanceEpoch(State s, AdvanceEpoch c) {
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        Run r = run;
        long next = r.epoch + 1;
        return Effect().persist(new EpochAdvanced(next, c.why())).thenRun(x -> r.epoch = next);
    }

    private Effect<Event, State> onReplayAnswered(State s, ReplayAnswered c) {
        if (run == null || !run.is(c.round(), c.attempt()) || c.error() == null) {
            return Effect().none();
        }
        return fail("replaying step " + c.cursor() + " failed: " + c.error());
    }

    /** Sends the kept steps again, then the one in hand, to the edge that rebuilt the half. */
    private void replayTo(Run r) {
        String to = r.edge;
        var edge = services.offloaded(r.ins.sessionId(), deviceId, to);
        for (Sent e : r.replay) {
            ctx.ask(OffloadedTraining.StepReply.class, edge, services.askTimeout(),
                    ref -> new OffloadedTraining.Step(r.ins.round(), r.ins.attempt(), r.epoch, e.cursor(),
                            e.activations(), e.labels(), ref),
                    (reply, failure) -> new ReplayAnswered(r.ins.round(), r.ins.attempt(), e.cursor(),
                            failure != null ? failure.getMessage() : reply.error()));
        }
        if (r.awaiting >= 0 && r.inFlightSent != null) {
            Sent e = r.inFlightSent;
            r.sentAt = System.nanoTime();
            ctx.ask(OffloadedTraining.StepReply.class, edge, services.askTimeout(),
                    ref -> new OffloadedTraining.Step(r.ins.round(), r.ins.attempt(), r.epoch, e.cursor(),
                            e.activations(), e.labels(), ref),
                    (reply, failure) -> new StepAnswered(r.ins.round(), r.ins.attempt(), e.cursor(), to, reply,
                            failure == null ? null : "edge did not answer step " + e.cursor() + ": "
                                    + failure.getMessage()));
        } else {
            r.awaiting = -1;
            ctx.getSelf().tell(new NextBatch(r.ins.round(), r.ins.attempt()));
        }
    }


    private Effect<Event, State> onMoveTo(State s, MoveTo c) {
        if (!s.registered()) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "device '" + deviceId + "' is not registered")));
        }
        if (s.remote() && remote.running()) {
            return remote.onMoveTo(s, c);
        }
        if (run != null && run.ins.offloaded()) {
            if (run.move != null) {
                return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                        "device '" + deviceId + "' is already moving to '" + run.move.to + "'")));
            }
            if (c.edgeId().equals(run.edge)) {
                return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.ack()));
            }
            startMove(run, c.edgeId(), c.replyTo());
            return Effect().none();
        }
        // Not training on an edge: a move is a plain re-attachment.
        ctx.getSelf().tell(new AttachTo(c.edgeId(), c.replyTo()));
        return Effect().none();
    }

    /** Asks the target edge to admit the device; training pauses (the step in hand completes on the old edge). */
    private void startMove(Run r, String toEdge, ActorRef<StatusReply<Done>> replyTo) {
        Move m = new Move(r.edge, toEdge, r.awaiting >= 0 ? r.awaiting : r.cursor, replyTo);
        r.move = m;
        if (r.ins.migration() == MigrationMode.FEDFLY) {
            // Before the asks, so it is journaled before their answers are handled and the take-over goes out:
            // the hand-off itself still carries the current epoch, the take-over the new one.
            ctx.getSelf().tell(new AdvanceEpoch(r.ins.round(), r.ins.attempt(), "move to '" + toEdge + "'"));
        }
        ctx.ask(EdgeServer.AttachReply.class, services.edge(toEdge), services.askTimeout(),
                ref -> new EdgeServer.Attach(deviceId, ref),
                (reply, failure) -> reply != null ? new MoveAdmitted(toEdge, reply.accepted(), reply.reason())
                        : new MoveAdmitted(toEdge, false, "edge '" + toEdge + "' did not answer: "
                                + failure.getMessage()));
        if (r.ins.migration() == MigrationMode.FEDFLY) {
            // In parallel with the admission: a refused move takes the handed-over state back to the old edge.
            ctx.ask(StatusReply.class, services.offloaded(r.ins.sessionId(), deviceId, m.from),
                    services.askTimeout(),
                    ref -> new OffloadedTraining.HandOff(r.ins.round(), r.ins.attempt(), r.epoch, m.to,
                            castReply(ref)),
                    (reply, failure) -> failure != null
                            ? new HandedOff(r.ins.round(), r.ins.attempt(), null, "edge '" + m.from
                                    + "' did not answer the hand-off: " + failure.getMessage())
                            : reply.isError()
                                    ? new HandedOff(r.ins.round(), r.ins.attempt(), null,
                                            reply.getError().getMessage())
                                    : new HandedOff(r.ins.round(), r.ins.attempt(),
                                            (OffloadedTraining.Handover) reply.getValue(), null));
        }
    }

    private Effect<Event, State> onMoveAdmitted(State s, MoveAdmitted c) {
        Run r = run;
        if (r == null || r.move == null || !r.move.to.equals(c.toEdge()) || r.move.admitted != null) {
            return Effect().none();
        }
        Move m = r.move;
        if (r.ins.migration() == MigrationMode.RESTART) {
            return c.accepted() ? restartOn(r, m)
                    : moveRefused(r, "move to '" + c.toEdge() + "' refused: " + c.reason());
        }
        m.admitted = c.accepted();
        if (!c.accepted()) {
            m.refusal = "move to '" + c.toEdge() + "' refused: " + c.reason();
        }
        return proceed(r);
    }

    /** A FedFly move goes on once both the admission and the hand-off have answered. */
    private Effect<Event, State> proceed(Run r) {
        Move m = r.move;
        if (m.admitted == null || !m.handoffAnswered) {
            return Effect().none();
        }
        if (m.admitted) {
            if (m.handoffFailure != null) {
                // The old edge could not hand its state off (it may have died): the new one rebuilds it.
                return rebuild(r, m.to, "hand-off from '" + m.from + "' failed: " + m.handoffFailure);
            }
            askTakeOver(r, m.to, m.from, null, m.handover);
            return Effect().none();
        }
        ctx.getLog().warn("{}: {}", deviceId, m.refusal);
        if (m.handoffFailure != null) {
            return rebuild(r, m.from, m.refusal + "; and the old edge failed too: " + m.handoffFailure);
        }
        // Refused: the old edge takes its own hand-over back and the device trains on there.
        Move back = new Move(m.to, m.from, m.atBatch, m.replyTo);
        back.returning = true;
        back.refusal = m.refusal;
        back.bytes = m.bytes;
        r.move = back;
        askTakeOver(r, back.to, back.from, null, m.handover);
        return Effect().none();
    }

    /** The device stays on its edge and goes on training; the requester learns why. */
    private Effect<Event, State> moveRefused(Run r, String why) {
        Move m = r.move;
        r.move = null;
        r.moves.add(new MoveRecord(deviceId, m.from, m.to, m.atBatch, r.ins.migration(), 0, 0, 0, why));
        ctx.getLog().warn("{}: {}", deviceId, why);
        if (m.replyTo != null) {
            m.replyTo.tell(StatusReply.error(why));
        }
        StepAnswered held = r.held;
        r.held = null;
        if (held != null) {
            ctx.getSelf().tell(held); // the old edge's answer to the step in hand, kept while deciding
        } else if (r.awaiting < 0) {
            ctx.getSelf().tell(new NextBatch(r.ins.round(), r.ins.attempt()));
        } // else: the answer is still on its way and is handled as usual
        return Effect().none();
    }

    /** The baseline: the new edge starts the round from the global model; the device redoes its batches. */
    private Effect<Event, State> restartOn(Run r, Move m) {
        try {
            prepareModel(r.ins);
        } catch (RuntimeException e) {
            return fail("cannot restart the round on '" + m.to + "': " + e.getMessage());
        }
        BatchesDone lost = closeSegment(r); // done on the old edge, and about to be redone
        setCheckpoint(r, null, 0);
        r.replay.clear();
        r.inFlightSent = null;
        r.cursor = 0;
        r.awaiting = -1;
        r.lossSum = 0;
        r.correct = 0;
        r.samples = 0;
        r.edge = m.to;
        r.segmentStart = 0;
        r.segmentEdge = m.to;
        r.move = null;
        r.held = null;
        r.moves.add(new MoveRecord(deviceId, m.from, m.to, m.atBatch, MigrationMode.RESTART, 0, 0, 0, null));
        services.metrics().migration();
        r.lastOpenMove = m;
        detachFrom(m.from);
        long next = r.epoch + 1;
        return persistThen(java.util.Arrays.asList(lost, new AttachedTo(m.to), new EpochAdvanced(next,
                "round restarted on '" + m.to + "'")), () -> {
            r.epoch = next;
            if (m.replyTo != null) {
                m.replyTo.tell(StatusReply.ack());
            }
            r.begun = false; // the round starts again on the new edge
            beginOnEdge(r);
        });
    }

    private Effect<Event, State> onHandedOff(State s, HandedOff c) {
        Run r = run;
        if (r == null || !r.is(c.round(), c.attempt()) || r.move == null || r.move.handoffAnswered) {
            return Effect().none();
        }
        Move m = r.move;
        m.handoffAnswered = true;
        m.handoffFailure = c.failure();
        if (c.handover() != null) {
            m.bytes = c.handover().bytes();
            m.handover = c.handover();
        }
        return proceed(r);
    }

    /** Asks {@code edge} to take over a hand-off; the answer comes back as {@link TookOver}. */
    private void askTakeOver(Run r, String edge, String fromEdge, OffloadedTraining.Handoff h,
                             OffloadedTraining.Handover v) {
        ctx.ask(StatusReply.class, services.offloaded(r.ins.sessionId(), deviceId, edge), services.askTimeout(),
                ref -> new OffloadedTraining.TakeOver(r.ins, fromEdge, r.epoch, h, v, castReply(ref)),
                (reply, failure) -> failure != null
                        ? new TookOver(r.ins.round(), r.ins.attempt(), null, "edge '" + edge
                                + "' did not answer the take-over: " + failure.getMessage())
                        : reply.isError()
                                ? new TookOver(r.ins.round(), r.ins.attempt(), null, reply.getError().getMessage())
                                : new TookOver(r.ins.round(), r.ins.attempt(),
                                        (OffloadedTraining.Resume) reply.getValue(), null));
    }

    private Effect<Event, State> onTookOver(State s, TookOver c) {
        Run r = run;
        if (r == null || !r.is(c.round(), c.attempt()) || r.move == null) {
            return Effect().none();
        }
        Move m = r.move;
        if (c.failure() != null) {
            if (m.rebuild) {
                return fail("rebuilding the server half on '" + m.to + "' failed: " + c.failure());
            }
            if (!m.returning) {
                // The new edge died or refused after admitting the device: the old edge takes its own
                // hand-off back and the device trains on there.
                ctx.getLog().warn("{}: take-over on '{}' failed ({}); returning to '{}'", deviceId, m.to,
                        c.failure(), m.from);
                Move back = new Move(m.to, m.from, m.atBatch, m.replyTo);
                back.returning = true;
                back.refusal = "move to '" + m.to + "' failed: " + c.failure();
                back.bytes = m.bytes;
                r.move = back;
                askTakeOver(r, back.to, back.from, null, m.handover);
                return Effect().none();
            }
            return fail("take-over on '" + m.to + "' failed: " + c.failure());
        }
        if (m.rebuild) {
            return onRebuilt(r, m);
        }
        r.edge = m.to;
        r.move = null;
        r.held = null; // the new edge delivers the same gradient
        r.moves.add(new MoveRecord(deviceId, m.returning ? m.to : m.from, m.returning ? m.from : m.to, m.atBatch,
                MigrationMode.FEDFLY, 0, 0, m.bytes, m.refusal));
        services.metrics().migration();
        r.lastOpenMove = m.returning ? null : m;
        detachFrom(m.from);
        OffloadedTraining.Resume resume = c.resume();
        // The handed-over state is not known to be durable yet: the last checkpoint and the replay stay.
        if (m.replyTo != null) {
            m.replyTo.tell(m.returning ? StatusReply.error(m.refusal) : StatusReply.ack());
        }
        if (r.awaiting >= 0 && resume.lastCursor() == r.awaiting) {
            // The old edge finished the step in hand as the device left; the new edge delivers its gradient.
            return applyGradient(r, resume.gradient(), resume.loss(), resume.correct(), false,
                    new AttachedTo(m.to));
        }
        r.awaiting = -1;
        return persistAndContinue(r, java.util.Arrays.asList(closeSegment(r), new AttachedTo(m.to)));
    }

    /** The half was rebuilt on {@code m.to}: replay, and re-attach if the edge changed. */
    private Effect<Event, State> onRebuilt(Run r, Move m) {
        boolean moved = !m.to.equals(r.edge);
        long replayed = r.replay.stream().mapToLong(e -> e.activations().length).sum();
        r.edge = m.to;
        r.move = null;
        r.held = null;
        r.moves.add(new MoveRecord(deviceId, m.from, m.to, m.atBatch, MigrationMode.FEDFLY, 0, 0, replayed,
                null));
        r.lastOpenMove = m;
        if (m.replyTo != null) {
            m.replyTo.tell(StatusReply.ack());
        }
        if (!moved) {
            replayTo(r);
            return Effect().none();
        }
        detachFrom(m.from);
        return persistThen(java.util.Arrays.asList(closeSegment(r), new AttachedTo(m.to)), () -> replayTo(r));
    }

    private void detachFrom(String edgeId) {
        services.edge(edgeId).tell(new EdgeServer.Detach(deviceId, ctx.getSystem().ignoreRef()));
    }

    private Effect<Event, State> finishRound(State s, Run r) {
        BatchesDone last = closeSegment(r);
        ModelRef mine;
        try {
            mine = ModelBlobs.putWeights(services.blobs(), model.weights());
        } catch (RuntimeException e) {
            return fail("cannot store trained weights: " + e.getMessage());
        }
        if (!r.ins.offloaded()) {
            return settle(s, r, List.of(mine), last);
        }
        r.clientWeights = mine;
        String at = r.edge;
        r.finishingAt = at;
        RecipientRef<?> edge = r.ins.parallel() ? services.roundMaster(r.ins.sessionId(), at)
                : services.offloaded(r.ins.sessionId(), deviceId, at);
        ctx.ask(StatusReply.class, castRecipient(edge), services.askTimeout(),
                ref -> r.ins.parallel()
                        ? new RoundMaster.Finish(r.ins.round(), r.ins.attempt(), deviceId, castReply(ref))
                        : new OffloadedTraining.FinishRound(r.ins.round(), r.ins.attempt(), r.epoch, castReply(ref)),
                (reply, failure) -> failure != null
                        ? new ServerFinished(r.ins.round(), r.ins.attempt(), at, null, "edge '" + at
                                + "' did not answer the round's end: " + failure.getMessage(), true)
                        : reply.isError()
                                ? new ServerFinished(r.ins.round(), r.ins.attempt(), at, null,
                                        reply.getError().getMessage(), false)
                                : new ServerFinished(r.ins.round(), r.ins.attempt(), at, (ModelRef) reply.getValue(),
                                        null, false));
        if (!r.ins.parallel()) {
            // An edge that dies between the last step and the round's end holds the only trained server half:
            // the device rebuilds it elsewhere from the checkpoint and its replay log instead of losing the round.
            ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new FinishOverdue(r.ins.round(), r.ins.attempt(), at,
                    false));
        }
        return persistThen(java.util.Arrays.asList(last), () -> { });
    }

    private boolean finishingAt(int round, int attempt, String edge) {
        return run != null && run.is(round, attempt) && edge.equals(run.finishingAt) && run.move == null;
    }

    private Effect<Event, State> onFinishOverdue(State s, FinishOverdue c) {
        if (!finishingAt(c.round(), c.attempt(), c.edge())) {
            return Effect().none();
        }
        if (c.checked()) {
            ctx.scheduleOnce(failoverCheck, ctx.getSelf(), new FinishOverdue(c.round(), c.attempt(), c.edge(),
                    false));
            return Effect().none();
        }
        askIfLost(c.edge(), problem -> problem == null ? new FinishOverdue(c.round(), c.attempt(), c.edge(), true)
                : new FinishLost(c.round(), c.attempt(), c.edge(), problem, null));
        return Effect().none();
    }

    private Effect<Event, State> onFinishLost(State s, FinishLost c) {
        if (!finishingAt(c.round(), c.attempt(), c.edge())) {
            return Effect().none();
        }
        if (c.target() == null) {
            ctx.pipeToSelf(liveEdgeOtherThan(c.edge()), (target, err) -> err != null || target == null
                    ? new FinishOverdue(c.round(), c.attempt(), c.edge(), true) // nowhere to go yet: look again
                    : new FinishLost(c.round(), c.attempt(), c.edge(), c.problem(), target));
            return Effect().none();
        }
        run.finishingAt = null;
        if (!c.target().equals(c.edge())) {
            services.edge(c.target()).tell(new EdgeServer.Attach(deviceId, ctx.getSystem().ignoreRef()));
        }
        return rebuild(run, c.target(), "edge '" + c.edge() + "' cannot end the round (" + c.problem() + ")");
    }

    private Effect<Event, State> onServerFinished(State s, ServerFinished c) {
        if (!finishingAt(c.round(), c.attempt(), c.edge())) {
            return Effect().none(); // an edge the round has left since, or a second answer
        }
        if (c.failure() != null && !run.ins.parallel()) {
            if (c.noAnswer()) { // dead: finish elsewhere; alive but silent: rebuild it there
                String edge = c.edge();
                askIfLost(edge, problem -> new FinishLost(c.round(), c.attempt(), edge,
                        problem != null ? problem : c.failure(), problem != null ? null : edge));
                return Effect().none();
            }
            // Refused, typically "no round in progress" from an edge that restarted and lost its live half.
            return onFinishLost(s, new FinishLost(c.round(), c.attempt(), c.edge(), c.failure(), c.edge()));
        }
        if (c.failure() != null) {
            return fail(c.failure());
        }
        run.finishingAt = null;
        services.metrics().progress(deviceId, c.edge()); // the round's end counts as training done on that edge
        return settle(s, run, List.of(run.clientWeights, c.serverWeights()), null);
    }

    /**
     * The round is trained: its energy is taken from the battery (journaled with {@code before}, if any) and the
     * result goes to the session, unless the battery could not pay for the round: then it is empty and the
     * device's update is dropped, as a phone that died mid-round would lose it.
     */
    private Effect<Event, State> settle(State s, Run r, List<ModelRef> parts, Event before) {
        double joules = EnergyUse.joules(r.ins, r.samples, r.bytesUp + r.bytesDown);
        double left = s.batteryJoules();
        EnergySpent spent = new EnergySpent(r.ins.sessionId(), r.ins.round(), r.ins.attempt(), Math.min(joules, left));
        if (joules > left) {
            String why = String.format("battery ran out during round %d: it needed %.1f J and had %.1f J",
                    r.ins.round(), joules, left);
            return persistThen(java.util.Arrays.asList(before, spent), () -> {
                if (run == r) {
                    run = null;
                }
                ctx.getLog().warn("{}: {}", deviceId, why);
                r.replyTo.tell(DeviceResult.failed(deviceId, r.ins, why));
            });
        }
        return persistThen(java.util.Arrays.asList(before, spent), () -> replyNow(r, parts));
    }


    private void replyNow(Run r, List<ModelRef> parts) {
        DeviceResult res = new DeviceResult(deviceId, r.ins.round(), r.ins.attempt(), r.partitionSize, parts,
                r.samples == 0 ? 0 : r.lossSum / r.samples, r.samples == 0 ? 0 : (double) r.correct / r.samples,
                r.bytesUp, r.bytesDown, (System.nanoTime() - r.started) / 1e9, median(r.stepMillis), r.moves, null,
                r.homeEdge);
        if (run == r) {
            run = null;
        }
        r.replyTo.tell(res);
    }

    static double median(java.util.List<Double> xs) {
        if (xs.isEmpty()) {
            return 0;
        }
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }

    private Effect<Event, State> fail(String why) {
        Run r = run;
        run = null;
        ctx.getLog().warn("{}: round {} failed: {}", deviceId, r.ins.round(), why);
        DeviceResult res = DeviceResult.failed(deviceId, r.ins, why);
        return Effect().none().thenRun(x -> r.replyTo.tell(res));
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Registered.class, (s, e) -> new State(deviceId, e.profile(), e.data(), s.edgeId(),
                        e.profile().batteryJoules(), s.epoch(), e.tokenHash()))
                .onEvent(AttachedTo.class, (s, e) -> new State(deviceId, s.profile(), s.data(), e.edgeId(),
                        s.batteryJoules(), s.epoch(), s.tokenHash()))
                .onEvent(EnergySpent.class, (s, e) -> new State(deviceId, s.profile(), s.data(), s.edgeId(),
                        Math.max(0, s.batteryJoules() - e.joules()), s.epoch(), s.tokenHash()))
                .onEvent(EpochAdvanced.class, (s, e) -> new State(deviceId, s.profile(), s.data(), s.edgeId(),
                        s.batteryJoules(), Math.max(s.epoch(), e.epoch()), s.tokenHash()))
                .onEvent(BatchesDone.class, (s, e) -> s)
                .build();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder().onSignal(PostStop.instance(), s -> closeModel()).build();
    }

    private void closeModel() {
        if (model != null) {
            model.close();
            model = null;
            modelKey = "";
        }
    }
}
