package ferry.actors.device;

import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.RoundInstruction;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
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

    public record Register(DeviceProfile profile, DataPartition data, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    /** Attach to an edge server; the edge must accept (registered, not full). */
    public record AttachTo(String edgeId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record TrainRound(RoundInstruction instruction, ActorRef<DeviceResult> replyTo) implements Command {}

    public record Get(ActorRef<State> replyTo) implements Command {}

    record EdgeAnswered(String edgeId, boolean accepted, String reason, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    record OffloadBegun(int round, int attempt, String error) implements Command {}

    record NextBatch(int round, int attempt) implements Command {}

    record StepAnswered(int round, int attempt, OffloadedTraining.StepReply reply, String failure)
            implements Command {}

    record ServerFinished(int round, int attempt, ModelRef serverWeights, String failure) implements Command {}

    public sealed interface Event extends CborSerializable {}

    public record Registered(DeviceProfile profile, DataPartition data) implements Event {}

    public record AttachedTo(String edgeId) implements Event {}

    public record State(String deviceId, DeviceProfile profile, DataPartition data, String edgeId)
            implements CborSerializable {
        public boolean registered() {
            return data != null;
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
        /** Size of the batch whose gradient is awaited. */
        int inFlight;
        /** The trained client half, stored while the edge stores its half. */
        ModelRef clientWeights;

        Run(RoundInstruction ins, ActorRef<DeviceResult> replyTo, ImageDataset data, int[] indices) {
            this.ins = ins;
            this.replyTo = replyTo;
            this.data = data;
            this.plan = new BatchPlan(indices, ins.batchSize(), ins.seed() * 7919 + ins.round());
            this.total = (long) plan.batchesPerEpoch() * ins.localEpochs();
            this.partitionSize = indices.length;
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

    private final String deviceId;
    private final FerryServices services;
    private final ActorContext<Command> ctx;
    private Run run;
    /** The live model half, reused across rounds while model, cut and learning rate stay the same. */
    private Net model;
    private String modelKey = "";

    private Device(ActorContext<Command> ctx, String deviceId, FerryServices services) {
        super(PersistenceId.of(TYPE_KEY.name(), deviceId));
        this.ctx = ctx;
        this.deviceId = deviceId;
        this.services = services;
    }

    public static Behavior<Command> create(String deviceId, FerryServices services) {
        return Behaviors.setup(ctx -> new Device(ctx, deviceId, services));
    }

    @Override
    public State emptyState() {
        return new State(deviceId, null, null, null);
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Register.class, (s, c) -> c.profile().equals(s.profile()) && c.data().equals(s.data())
                        ? Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.ack()))
                        : Effect().persist(new Registered(c.profile(), c.data()))
                                .thenRun(x -> c.replyTo().tell(StatusReply.ack())))
                .onCommand(AttachTo.class, this::onAttachTo)
                .onCommand(EdgeAnswered.class, this::onEdgeAnswered)
                .onCommand(TrainRound.class, this::onTrainRound)
                .onCommand(OffloadBegun.class, this::onOffloadBegun)
                .onCommand(NextBatch.class, this::onNextBatch)
                .onCommand(StepAnswered.class, this::onStepAnswered)
                .onCommand(ServerFinished.class, this::onServerFinished)
                .onCommand(Get.class, (s, c) -> Effect().none().thenRun(x -> c.replyTo().tell(x)))
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
        return Effect().persist(new AttachedTo(c.edgeId())).thenRun(x -> c.replyTo().tell(StatusReply.ack()));
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
        }
        if (problem == null) {
            try {
                run = new Run(ins, c.replyTo(), services.datasets().train(ins.dataset()),
                        services.datasets().partition(s.data()));
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
        if (ins.offloaded()) {
            ctx.ask(StatusReply.class, services.offloaded(ins.sessionId(), deviceId), services.askTimeout(),
                    r -> new OffloadedTraining.BeginRound(ins, s.edgeId(), castReply(r)),
                    (reply, failure) -> new OffloadBegun(ins.round(), ins.attempt(),
                            failure != null ? "edge did not answer: " + failure.getMessage()
                                    : reply.isError() ? reply.getError().getMessage() : null));
        } else {
            ctx.getSelf().tell(new NextBatch(ins.round(), ins.attempt()));
        }
        return Effect().none();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static <T> ActorRef<StatusReply<T>> castReply(ActorRef<StatusReply> r) {
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
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        if (c.error() != null) {
            return fail(c.error());
        }
        ctx.getSelf().tell(new NextBatch(c.round(), c.attempt()));
        return Effect().none();
    }

    private Effect<Event, State> onNextBatch(State s, NextBatch c) {
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        Run r = run;
        if (r.cursor >= r.total) {
            return finishRound(r);
        }
        Batch b = r.data.batch(r.plan.batch(r.cursor));
        try {
            if (!r.ins.offloaded()) {
                StepResult res = ((MonolithicModel) model).step(b);
                r.add(res.loss(), res.correct(), b.size());
                r.cursor++;
                ctx.getSelf().tell(new NextBatch(c.round(), c.attempt()));
                return Effect().none();
            }
            byte[] act = TensorCodec.encode(((ClientHalf) model).forward(b));
            r.bytesUp += act.length + 4L * b.size();
            r.inFlight = b.size();
            long cursor = r.cursor;
            ctx.ask(OffloadedTraining.StepReply.class, services.offloaded(r.ins.sessionId(), deviceId),
                    services.askTimeout(),
                    ref -> new OffloadedTraining.Step(c.round(), c.attempt(), cursor, act, b.labels(), ref),
                    (reply, failure) -> new StepAnswered(c.round(), c.attempt(), reply,
                            failure == null ? null : "edge did not answer step " + cursor + ": "
                                    + failure.getMessage()));
            return Effect().none();
        } catch (RuntimeException e) {
            return fail("training step " + r.cursor + " failed: " + e.getMessage());
        }
    }

    private Effect<Event, State> onStepAnswered(State s, StepAnswered c) {
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        if (c.failure() != null) {
            return fail(c.failure());
        }
        OffloadedTraining.StepReply reply = c.reply();
        if (!reply.ok()) {
            return fail("edge refused step " + reply.cursor() + ": " + reply.error());
        }
        try {
            ((ClientHalf) model).backward(TensorCodec.decode(reply.gradient()));
        } catch (RuntimeException e) {
            return fail("bad cut-layer gradient for step " + reply.cursor() + ": " + e.getMessage());
        }
        run.bytesDown += reply.gradient().length;
        run.add(reply.loss(), reply.correct(), run.inFlight);
        run.cursor++;
        ctx.getSelf().tell(new NextBatch(c.round(), c.attempt()));
        return Effect().none();
    }

    private Effect<Event, State> finishRound(Run r) {
        ModelRef mine;
        try {
            mine = ModelBlobs.putWeights(services.blobs(), model.weights());
        } catch (RuntimeException e) {
            return fail("cannot store trained weights: " + e.getMessage());
        }
        if (!r.ins.offloaded()) {
            return reply(r, List.of(mine));
        }
        r.clientWeights = mine;
        ctx.ask(StatusReply.class, services.offloaded(r.ins.sessionId(), deviceId), services.askTimeout(),
                ref -> new OffloadedTraining.FinishRound(r.ins.round(), r.ins.attempt(), castReply(ref)),
                (reply, failure) -> failure != null
                        ? new ServerFinished(r.ins.round(), r.ins.attempt(), null, "edge did not answer: "
                                + failure.getMessage())
                        : reply.isError()
                                ? new ServerFinished(r.ins.round(), r.ins.attempt(), null,
                                        reply.getError().getMessage())
                                : new ServerFinished(r.ins.round(), r.ins.attempt(), (ModelRef) reply.getValue(),
                                        null));
        return Effect().none();
    }

    private Effect<Event, State> onServerFinished(State s, ServerFinished c) {
        if (run == null || !run.is(c.round(), c.attempt())) {
            return Effect().none();
        }
        if (c.failure() != null) {
            return fail(c.failure());
        }
        return reply(run, List.of(run.clientWeights, c.serverWeights()));
    }

    private Effect<Event, State> reply(Run r, List<ModelRef> parts) {
        DeviceResult res = new DeviceResult(deviceId, r.ins.round(), r.ins.attempt(), r.partitionSize, parts,
                r.samples == 0 ? 0 : r.lossSum / r.samples, r.samples == 0 ? 0 : (double) r.correct / r.samples,
                r.bytesUp, r.bytesDown, (System.nanoTime() - r.started) / 1e9, null);
        run = null;
        return Effect().none().thenRun(x -> r.replyTo.tell(res));
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
                .onEvent(Registered.class, (s, e) -> new State(deviceId, e.profile(), e.data(), s.edgeId()))
                .onEvent(AttachedTo.class, (s, e) -> new State(deviceId, s.profile(), s.data(), e.edgeId()))
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
