package ferry.actors.edge;

import ferry.actors.cloud.CloudAggregator;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.RoundInstruction;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.tensor.TensorCodec;
import ferry.zoo.train.ParallelServerHalf;
import ferry.zoo.train.SgdConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;

/**
 * The shared server half of one session on one edge (entity id {@code session~edge}), for parallel split
 * learning: each step it waits for the activations of every device of the round, runs the server half on all of
 * them at once (aggregating the last-layer gradients of a fraction phi of each batch: EPSL), and answers each
 * device with its cut-layer gradient. A device that has not sent its step within the step timeout is left out
 * for the rest of the round and the others go on. Round progress lives only here: a lost round master costs the
 * round, which the session runs again.
 */
public final class RoundMaster extends AbstractBehavior<RoundMaster.Command> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "RoundMaster");

    public static String entityId(String sessionId, String edgeId) {
        return sessionId + "~" + edgeId;
    }

    public sealed interface Command extends CborSerializable {}

    /** A device takes part in the round; the first join of a round loads the global model. */
    public record Join(RoundInstruction instruction, String deviceId, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    public record Step(int round, int attempt, String deviceId, long cursor, byte[] activations, int[] labels,
                       ActorRef<OffloadedTraining.StepReply> replyTo) implements Command {}

    /** The round's trained server half (the same for every device of the edge). */
    public record Finish(int round, int attempt, String deviceId, ActorRef<StatusReply<ModelRef>> replyTo)
            implements Command {}

    /**
     * Hierarchical FedAvg, the edge's level: the average of this edge's devices' models, weighted by samples,
     * computed on the edge's node. Works for every algorithm that averages, parallel or not.
     */
    public record AggregateEdge(int round, List<CloudAggregator.Contribution> devices,
                                ActorRef<StatusReply<CloudAggregator.EdgeModel>> replyTo) implements Command {}

    /** Answers at once: the hosting node asks it so that the edge's shard starts on that node (see hostEdge). */
    public record Probe(ActorRef<Done> replyTo) implements Command {}

    record StepTimeout(int round, int attempt, long cursor) implements Command {}

    private final String id;
    private final FerryServices services;
    private final TimerScheduler<Command> timers;
    private final Duration stepTimeout;
    private ParallelServerHalf server;
    private String serverKey = "";
    private int round = -1;
    private int attempt = -1;
    private double phi;
    private final Set<String> participants = new LinkedHashSet<>();
    private final List<String> leftOut = new ArrayList<>();
    private final TreeMap<String, Step> pending = new TreeMap<>();
    private long cursor;
    private ModelRef finished;

    private RoundMaster(ActorContext<Command> ctx, TimerScheduler<Command> timers, String id,
                        FerryServices services) {
        super(ctx);
        this.id = id;
        this.services = services;
        this.timers = timers;
        this.stepTimeout = ctx.getSystem().settings().config().getDuration("ferry.round-master.step-timeout");
    }

    public static Behavior<Command> create(String entityId, FerryServices services) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new RoundMaster(ctx, t, entityId, services)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Join.class, this::onJoin)
                .onMessage(Step.class, this::onStep)
                .onMessage(StepTimeout.class, this::onTimeout)
                .onMessage(Finish.class, this::onFinish)
                .onMessage(AggregateEdge.class, this::onAggregateEdge)
                .onMessage(Probe.class, c -> {
                    c.replyTo().tell(Done.getInstance());
                    return this;
                })
                .onSignal(PostStop.class, s -> {
                    close();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onJoin(Join c) {
        RoundInstruction ins = c.instruction();
        if (ins.round() != round || ins.attempt() != attempt) {
            try {
                startRound(ins);
            } catch (RuntimeException e) {
                close();
                round = -1;
                c.replyTo().tell(StatusReply.error("edge cannot begin round " + ins.round() + ": " + e.getMessage()));
                return this;
            }
        }
        if (cursor > 0) {
            c.replyTo().tell(StatusReply.error("round " + round + " is already under way on this edge"));
            return this;
        }
        participants.add(c.deviceId());
        c.replyTo().tell(StatusReply.ack());
        return this;
    }

    private void startRound(RoundInstruction ins) {
        ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
        String key = ins.model() + "/" + ins.dataset() + "/" + ins.cut() + "/" + ins.learningRate();
        if (server == null || !key.equals(serverKey)) {
            close();
            server = new ParallelServerHalf(spec, ins.cut(), ins.seed(),
                    new SgdConfig(ins.learningRate(), SgdConfig.DEFAULT.momentum(), 0f));
            serverKey = key;
        }
        server.loadWeights(ModelBlobs.select(ModelBlobs.getWeights(services.blobs(), ins.global()),
                server.parameterNames()), true);
        round = ins.round();
        attempt = ins.attempt();
        phi = ins.phi();
        participants.clear();
        leftOut.clear();
        pending.clear();
        cursor = 0;
        finished = null;
    }

    private Behavior<Command> onStep(Step c) {
        String problem = null;
        if (c.round() != round || c.attempt() != attempt || server == null) {
            problem = "no parallel round " + c.round() + " (attempt " + c.attempt() + ") here";
        } else if (!participants.contains(c.deviceId())) {
            problem = leftOut.contains(c.deviceId()) ? "device was left out of this round (too slow at a step)"
                    : "device has not joined round " + round;
        } else if (c.cursor() != cursor) {
            problem = "step " + c.cursor() + " out of order: the edge is at step " + cursor;
        }
        if (problem != null) {
            c.replyTo().tell(OffloadedTraining.StepReply.failed(c.cursor(), 0, problem));
            return this;
        }
        if (pending.isEmpty()) {
            timers.startSingleTimer("step", new StepTimeout(round, attempt, cursor), stepTimeout);
        }
        pending.put(c.deviceId(), c);
        if (pending.keySet().containsAll(participants)) {
            runStep();
        }
        return this;
    }

    private Behavior<Command> onTimeout(StepTimeout t) {
        if (t.round() != round || t.attempt() != attempt || t.cursor() != cursor || pending.isEmpty()) {
            return this;
        }
        for (String d : List.copyOf(participants)) {
            if (!pending.containsKey(d)) {
                participants.remove(d);
                leftOut.add(d);
                getContext().getLog().warn("{}: {} left out of the round at step {} (no activations in {})", id,
                        d, cursor, stepTimeout);
            }
        }
        runStep();
        return this;
    }

    /** One server step over every device's batch; the answers go out, and the next step starts. */
    private void runStep() {
        timers.cancel("step");
        List<Step> steps = new ArrayList<>(pending.values());
        pending.clear();
        List<Tensor> acts = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        List<Step> ok = new ArrayList<>();
        for (Step s : steps) {
            try {
                acts.add(TensorCodec.decode(s.activations()));
                labels.add(s.labels());
                ok.add(s);
            } catch (IllegalArgumentException e) {
                s.replyTo().tell(OffloadedTraining.StepReply.failed(s.cursor(), 0, e.getMessage()));
            }
        }
        cursor++;
        if (ok.isEmpty()) {
            return;
        }
        try {
            ParallelServerHalf.ParallelStepResult r = server.step(acts, labels, phi);
            for (int i = 0; i < ok.size(); i++) {
                Step s = ok.get(i);
                s.replyTo().tell(new OffloadedTraining.StepReply(s.cursor(), 0,
                        TensorCodec.encode(r.clientGradients().get(i)), r.loss(), r.correct() / ok.size(), null,
                        null));
            }
        } catch (IllegalArgumentException e) { // shapes that do not fit together: nothing was trained
            for (Step s : ok) {
                s.replyTo().tell(OffloadedTraining.StepReply.failed(s.cursor(), 0, e.getMessage()));
            }
        }
    }

    private Behavior<Command> onFinish(Finish c) {
        if (c.round() != round || c.attempt() != attempt || server == null) {
            c.replyTo().tell(StatusReply.error("no parallel round " + c.round() + " here"));
            return this;
        }
        try {
            if (finished == null) {
                finished = ModelBlobs.putWeights(services.blobs(), server.weights());
            }
            c.replyTo().tell(StatusReply.success(finished));
        } catch (RuntimeException e) {
            c.replyTo().tell(StatusReply.error("edge cannot store the server half: " + e.getMessage()));
        }
        return this;
    }

    private Behavior<Command> onAggregateEdge(AggregateEdge c) {
        String edge = id.substring(id.lastIndexOf('~') + 1);
        try {
            ModelRef avg = CloudAggregator.average(services, c.devices());
            long samples = c.devices().stream().mapToLong(CloudAggregator.Contribution::samples).sum();
            c.replyTo().tell(StatusReply.success(new CloudAggregator.EdgeModel(edge, avg, samples)));
        } catch (RuntimeException e) {
            c.replyTo().tell(StatusReply.error("edge " + edge + " cannot aggregate round " + c.round() + ": "
                    + e.getMessage()));
        }
        return this;
    }

    private void close() {
        if (server != null) {
            server.close();
            server = null;
            serverKey = "";
        }
    }
}
