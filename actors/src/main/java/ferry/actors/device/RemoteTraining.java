package ferry.actors.device;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.edge.RoundMaster;
import ferry.actors.node.FerryServices;
import ferry.actors.session.DeviceResult;
import ferry.actors.session.MigrationMode;
import ferry.actors.session.MoveRecord;
import ferry.actors.session.RoundInstruction;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;

/**
 * The rounds of a real device, one that trains outside the cluster and reaches its edge over gRPC
 * ({@code ferry.grpc}). It lives inside the device's {@link Device} entity, which keeps the device's account
 * (profile, edge, battery, batch log) as for a simulated device; this class does the round bookkeeping that the
 * entity's own training loop does for a simulated one:
 *
 * <ol>
 * <li>{@code TrainRound}: the server half is begun on the device's edge (as for a simulated device) and the round
 * is offered to the device, which long-polls for it ({@link AwaitRound});</li>
 * <li>the device trains its half itself and sends its steps to the edge's gRPC service, which hands them straight
 * to the device's {@link OffloadedTraining} entity (they never pass through here);</li>
 * <li>a move ({@code Device.MoveTo}) hands the server half off from the old edge and has the new one take it over,
 * as FedFly does for a simulated device; the old edge's gRPC service then redirects the device's next step to the
 * new edge ({@link View} tells it where) and the attachment epoch grows;</li>
 * <li>the device pushes its trained weights ({@link Pushed}): the edge finishes its half and the session gets the
 * usual {@link DeviceResult}; the batch log gets one stretch per edge.</li>
 * </ol>
 * A round in progress is not persisted, as for a simulated device: a restarted session re-sends it.
 */
public final class RemoteTraining {
    /**
     * Travels inside {@link Device.Remote} between JVMs (a step reaches the device's entity from whichever edge's
     * gRPC service it came to), so Jackson needs the concrete type written beside the interface-typed field.
     */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
    @JsonSubTypes({
            @JsonSubTypes.Type(value = AwaitRound.class, name = "AwaitRound"),
            @JsonSubTypes.Type(value = GetView.class, name = "GetView"),
            @JsonSubTypes.Type(value = Pushed.class, name = "Pushed"),
            @JsonSubTypes.Type(value = Leave.class, name = "Leave"),
            @JsonSubTypes.Type(value = Begun.class, name = "Begun"),
            @JsonSubTypes.Type(value = PollExpired.class, name = "PollExpired"),
            @JsonSubTypes.Type(value = MoveAdmitted.class, name = "MoveAdmitted"),
            @JsonSubTypes.Type(value = HandedOff.class, name = "HandedOff"),
            @JsonSubTypes.Type(value = TookOver.class, name = "TookOver"),
            @JsonSubTypes.Type(value = ServerFinished.class, name = "ServerFinished")})
    public sealed interface Command extends CborSerializable {}

    /** A long poll: answered with the round the device must train once there is one, or an empty offer. */
    public record AwaitRound(long waitMillis, ActorRef<Offer> replyTo) implements Command {}

    /** What the gRPC service routes a device's calls by: registration, token hash, edge, round in progress. */
    public record GetView(ActorRef<View> replyTo) implements Command {}

    /**
     * The device's trained weights are in the blob store ({@code weights}: its client half, or the whole model
     * in a local round) with what it reports about the round; the answer says how the round ended.
     */
    public record Pushed(String sessionId, int round, int attempt, ModelRef weights, long batches, long samples,
                         double loss, long correct, long bytesUp, long bytesDown,
                         ActorRef<StatusReply<String>> replyTo) implements Command {}

    /** The device leaves its edge: a round it is in ends as failed for it. */
    public record Leave(ActorRef<StatusReply<Done>> replyTo) implements Command {}

    record Begun(int round, int attempt, String error) implements Command {}

    record PollExpired(long waiter) implements Command {}

    record MoveAdmitted(int round, int attempt, boolean accepted, String reason) implements Command {}

    record HandedOff(int round, int attempt, OffloadedTraining.Handover handover, String failure)
            implements Command {}

    record TookOver(int round, int attempt, String failure) implements Command {}

    record ServerFinished(int round, int attempt, ModelRef serverWeights, String failure) implements Command {}

    /**
     * A round as offered to the device: the instruction, the edge to step with, the attachment epoch its steps
     * carry; {@code instruction} null: no round. {@code ready}: the edge has begun its half; {@code movingTo}: a
     * move to that edge is under way (steps wait until it is done).
     */
    public record Offer(RoundInstruction instruction, String edgeId, long epoch, boolean ready, String movingTo)
            implements CborSerializable {
        static final Offer NONE = new Offer(null, null, 0, false, null);

        public boolean present() {
            return instruction != null;
        }
    }

    /** {@code round}: the round in progress (never null; {@link Offer#present} false when there is none). */
    public record View(String deviceId, boolean registered, boolean remote, String tokenHash, String edgeId,
                       Offer round) implements CborSerializable {}

    /** A round in progress. */
    private static final class Run {
        final RoundInstruction ins;
        final ActorRef<DeviceResult> replyTo;
        final String homeEdge;
        final long started = System.nanoTime();
        String edge;
        long epoch;
        boolean ready;
        boolean finishing;
        Move move;
        long segmentStart;
        final List<MoveRecord> moves = new ArrayList<>();
        Pushed pushed;

        Run(RoundInstruction ins, ActorRef<DeviceResult> replyTo, String edge, long epoch) {
            this.ins = ins;
            this.replyTo = replyTo;
            this.homeEdge = edge;
            this.edge = edge;
            this.epoch = epoch;
        }

        boolean is(int round, int attempt) {
            return ins.round() == round && ins.attempt() == attempt;
        }

        Offer offer() {
            return new Offer(ins, edge, epoch, ready, move == null ? null : move.to);
        }
    }

    private static final class Move {
        final String from;
        final String to;
        final ActorRef<StatusReply<Done>> replyTo;
        final long started = System.nanoTime();
        Boolean admitted;
        String refusal;
        boolean handoffAnswered;
        OffloadedTraining.Handover handover;
        String handoffFailure;
        /** Taking the state back to the old edge after the new one refused or failed. */
        boolean returning;

        /** The epoch the half is established under after the move (on the new edge, or back on the old). */
        final long epoch;

        Move(String from, String to, ActorRef<StatusReply<Done>> replyTo, long epoch) {
            this.from = from;
            this.to = to;
            this.replyTo = replyTo;
            this.epoch = epoch;
        }
    }

    private final ActorContext<Device.Command> ctx;
    private final String deviceId;
    private final FerryServices services;
    private final EffectFactories<Device.Event, Device.State> effects;
    private Run run;
    private long nextWaiter;
    private final Map<Long, ActorRef<Offer>> waiters = new LinkedHashMap<>();

    RemoteTraining(ActorContext<Device.Command> ctx, String deviceId, FerryServices services,
                   EffectFactories<Device.Event, Device.State> effects) {
        this.ctx = ctx;
        this.deviceId = deviceId;
        this.services = services;
        this.effects = effects;
    }

    /** Whether a round is in progress (a move then follows the FedFly hand-off here). */
    boolean running() {
        return run != null;
    }

    Effect<Device.Event, Device.State> on(Device.State s, Command c) {
        if (c instanceof AwaitRound a) {
            return onAwait(s, a);
        } else if (c instanceof GetView g) {
            if (!s.registered()) {
                // Asked about an unknown id (a device service checking a caller): answer, and do not stay in
                // memory, so probing made-up ids costs nothing lasting.
                return effects.none().thenRun(x -> g.replyTo().tell(view(x))).thenStop();
            }
            return effects.none().thenRun(x -> g.replyTo().tell(view(x)));
        } else if (c instanceof Pushed p) {
            return onPushed(s, p);
        } else if (c instanceof Leave l) {
            return onLeave(s, l);
        } else if (c instanceof Begun b) {
            return onBegun(b);
        } else if (c instanceof PollExpired p) {
            ActorRef<Offer> w = waiters.remove(p.waiter());
            if (w != null) {
                w.tell(Offer.NONE);
            }
            return effects.none();
        } else if (c instanceof MoveAdmitted m) {
            return onMoveAdmitted(m);
        } else if (c instanceof HandedOff h) {
            return onHandedOff(h);
        } else if (c instanceof TookOver t) {
            return onTookOver(t);
        } else if (c instanceof ServerFinished f) {
            return onServerFinished(s, f);
        }
        throw new IllegalArgumentException("unknown remote-device command " + c);
    }

    private View view(Device.State s) {
        return new View(deviceId, s.registered(), s.remote(), s.tokenHash(), s.edgeId(),
                run == null ? Offer.NONE : run.offer());
    }

    /** The session's instruction: begin the edge's half, then offer the round to the device. */
    Effect<Device.Event, Device.State> onTrainRound(Device.State s, Device.TrainRound c) {
        RoundInstruction ins = c.instruction();
        if (run != null && !run.is(ins.round(), ins.attempt())) {
            ctx.getLog().info("{}: round {} attempt {} replaces round {} attempt {}", deviceId, ins.round(),
                    ins.attempt(), run.ins.round(), run.ins.attempt());
        }
        // The device's attachment epoch (durable in its state): the edge fences off commands of older ones, and the
        // gRPC service refuses or redirects steps that carry another one.
        Run r = new Run(ins, c.replyTo(), s.edgeId(), s.epoch());
        run = r;
        if (!ins.offloaded()) { // the device trains the whole model itself: nothing to begin on an edge
            r.ready = true;
            offerToWaiters();
            return effects.none();
        }
        RecipientRef<?> edge = ins.parallel() ? services.roundMaster(ins.sessionId(), r.edge)
                : services.offloaded(ins.sessionId(), deviceId, r.edge);
        ctx.ask(StatusReply.class, cast(edge), services.askTimeout(),
                ref -> ins.parallel() ? new RoundMaster.Join(ins, deviceId, castReply(ref))
                        : new OffloadedTraining.BeginRound(ins, r.edge, r.epoch, castReply(ref)),
                (reply, failure) -> remote(new Begun(ins.round(), ins.attempt(), failure != null
                        ? "edge '" + r.edge + "' did not answer: " + failure.getMessage()
                        : reply.isError() ? reply.getError().getMessage() : null)));
        return effects.none();
    }

    private Effect<Device.Event, Device.State> onBegun(Begun b) {
        if (run == null || !run.is(b.round(), b.attempt())) {
            return effects.none();
        }
        if (b.error() != null) {
            return fail("cannot begin round " + b.round() + " on edge '" + run.edge + "': " + b.error());
        }
        run.ready = true;
        offerToWaiters();
        return effects.none();
    }

    private Effect<Device.Event, Device.State> onAwait(Device.State s, AwaitRound a) {
        if (run != null && run.ready && !run.finishing) {
            Offer o = run.offer();
            return effects.none().thenRun(x -> a.replyTo().tell(o));
        }
        long id = nextWaiter++;
        waiters.put(id, a.replyTo());
        ctx.scheduleOnce(Duration.ofMillis(Math.max(0, a.waitMillis())), ctx.getSelf(),
                remote(new PollExpired(id)));
        return effects.none();
    }

    private void offerToWaiters() {
        Offer o = run.offer();
        waiters.values().forEach(w -> w.tell(o));
        waiters.clear();
    }

    /** A move of a device training a split round: the FedFly hand-off, old edge to new. */
    Effect<Device.Event, Device.State> onMoveTo(Device.State s, Device.MoveTo c) {
        Run r = run;
        String why = null;
        if (!r.ins.offloaded() || r.finishing) {
            // Training locally (or done): a move is a plain re-attachment.
            ctx.getSelf().tell(new Device.AttachTo(c.edgeId(), c.replyTo()));
            return effects.none();
        } else if (c.edgeId().equals(r.edge)) {
            return effects.none().thenRun(x -> c.replyTo().tell(StatusReply.ack()));
        } else if (r.ins.parallel()) {
            why = "device '" + deviceId + "' cannot move during a parallel (PSL/EPSL) round: its edge's server half "
                    + "is shared by every device there";
        } else if (r.move != null) {
            why = "device '" + deviceId + "' is already moving to '" + r.move.to + "'";
        } else if (!r.ready) {
            why = "round " + r.ins.round() + " is still starting on edge '" + r.edge + "'; move once it runs";
        }
        if (why != null) {
            String w = why;
            return effects.none().thenRun(x -> c.replyTo().tell(StatusReply.error(w)));
        }
        Move m = new Move(r.edge, c.edgeId(), c.replyTo(), r.epoch + 1);
        r.move = m;
        int round = r.ins.round();
        int attempt = r.ins.attempt();
        // The new epoch is durable before the half is established anywhere under it (the take-over carries it;
        // the hand-off still the current one), as for a simulated device.
        return effects.persist(new Device.EpochAdvanced(m.epoch, "move to '" + m.to + "'")).thenRun(x ->
                startMove(r, m, round, attempt));
    }

    private void startMove(Run r, Move m, int round, int attempt) {
        ctx.ask(EdgeServer.AttachReply.class, services.edge(m.to), services.askTimeout(),
                ref -> new EdgeServer.Attach(deviceId, ref),
                (reply, failure) -> remote(reply != null
                        ? new MoveAdmitted(round, attempt, reply.accepted(), reply.reason())
                        : new MoveAdmitted(round, attempt, false, "edge '" + m.to + "' did not answer: "
                                + failure.getMessage())));
        // In parallel with the admission: the old edge stops after the step in hand and hands its state over.
        ctx.ask(StatusReply.class, services.offloaded(r.ins.sessionId(), deviceId, m.from), services.askTimeout(),
                ref -> new OffloadedTraining.HandOff(round, attempt, r.epoch, m.to, castReply(ref)),
                (reply, failure) -> remote(failure != null
                        ? new HandedOff(round, attempt, null, "edge '" + m.from + "' did not answer the hand-off: "
                                + failure.getMessage())
                        : reply.isError() ? new HandedOff(round, attempt, null, reply.getError().getMessage())
                                : new HandedOff(round, attempt, (OffloadedTraining.Handover) reply.getValue(),
                                        null)));
    }

    private Effect<Device.Event, Device.State> onMoveAdmitted(MoveAdmitted c) {
        if (run == null || !run.is(c.round(), c.attempt()) || run.move == null || run.move.admitted != null) {
            return effects.none();
        }
        run.move.admitted = c.accepted();
        if (!c.accepted()) {
            run.move.refusal = "move to '" + run.move.to + "' refused: " + c.reason();
        }
        return proceed();
    }

    private Effect<Device.Event, Device.State> onHandedOff(HandedOff c) {
        if (run == null || !run.is(c.round(), c.attempt()) || run.move == null || run.move.handoffAnswered) {
            return effects.none();
        }
        run.move.handoffAnswered = true;
        run.move.handover = c.handover();
        run.move.handoffFailure = c.failure();
        return proceed();
    }

    /** Once the admission and the hand-off have both answered: take over on the new edge, or back on the old. */
    private Effect<Device.Event, Device.State> proceed() {
        Run r = run;
        Move m = r.move;
        if (m.admitted == null || !m.handoffAnswered) {
            return effects.none();
        }
        if (m.handover == null) {
            // The old edge has no live half to hand over (it lost it): the round cannot go on for this device.
            if (m.admitted) {
                services.edge(m.to).tell(new EdgeServer.Detach(deviceId, ctx.getSystem().ignoreRef()));
            }
            String why = "move to '" + m.to + "' failed: " + m.handoffFailure;
            m.replyTo.tell(StatusReply.error(why));
            return fail(why);
        }
        if (!m.admitted) {
            m.returning = true;
            takeOver(r, m.from, m);
        } else {
            takeOver(r, m.to, m);
        }
        return effects.none();
    }

    private void takeOver(Run r, String edge, Move m) {
        int round = r.ins.round();
        int attempt = r.ins.attempt();
        ctx.ask(StatusReply.class, services.offloaded(r.ins.sessionId(), deviceId, edge), services.askTimeout(),
                ref -> new OffloadedTraining.TakeOver(r.ins, m.from, m.epoch, null, m.handover, castReply(ref)),
                (reply, failure) -> remote(new TookOver(round, attempt, failure != null
                        ? "edge '" + edge + "' did not answer the take-over: " + failure.getMessage()
                        : reply.isError() ? reply.getError().getMessage() : null)));
    }

    private Effect<Device.Event, Device.State> onTookOver(TookOver c) {
        if (run == null || !run.is(c.round(), c.attempt()) || run.move == null) {
            return effects.none();
        }
        Run r = run;
        Move m = r.move;
        if (c.failure() != null) {
            if (!m.returning) {
                ctx.getLog().warn("{}: take-over on '{}' failed ({}); back to '{}'", deviceId, m.to, c.failure(),
                        m.from);
                services.edge(m.to).tell(new EdgeServer.Detach(deviceId, ctx.getSystem().ignoreRef()));
                m.returning = true;
                m.refusal = "move to '" + m.to + "' failed: " + c.failure();
                takeOver(r, m.from, m);
                return effects.none();
            }
            m.replyTo.tell(StatusReply.error(m.refusal + "; and the old edge could not take its state back: "
                    + c.failure()));
            return fail("take-over back on '" + m.from + "' failed: " + c.failure());
        }
        r.move = null;
        r.epoch = m.epoch; // established under the new epoch, wherever it went
        long at = m.handover.lastCursor() + 1;
        if (m.returning) {
            r.moves.add(new MoveRecord(deviceId, m.from, m.to, at, MigrationMode.FEDFLY, 0, 0, 0, m.refusal));
            ctx.getLog().warn("{}: {}", deviceId, m.refusal);
            return effects.none().thenRun(x -> m.replyTo.tell(StatusReply.error(m.refusal)));
        }
        r.moves.add(new MoveRecord(deviceId, m.from, m.to, at, MigrationMode.FEDFLY,
                (System.nanoTime() - m.started) / 1e6, 0, m.handover.bytes(), null));
        services.metrics().migration();
        r.edge = m.to;
        Device.BatchesDone before = at > r.segmentStart ? new Device.BatchesDone(r.ins.sessionId(), r.ins.round(),
                r.ins.attempt(), r.segmentStart, at, m.from) : null;
        r.segmentStart = at;
        List<Device.Event> events = new ArrayList<>();
        if (before != null) {
            events.add(before);
        }
        events.add(new Device.AttachedTo(m.to));
        return effects.persist(events).thenRun(x -> {
            services.edge(m.from).tell(new EdgeServer.Detach(deviceId, ctx.getSystem().ignoreRef()));
            m.replyTo.tell(StatusReply.ack());
        });
    }

    /** The device's weights are in: the edge finishes its half, then the round is settled. */
    private Effect<Device.Event, Device.State> onPushed(Device.State s, Pushed p) {
        Run r = run;
        String problem = null;
        if (r == null || !r.ins.sessionId().equals(p.sessionId()) || !r.is(p.round(), p.attempt())) {
            problem = "device '" + deviceId + "' has no round " + p.round() + " (attempt " + p.attempt()
                    + ") of session '" + p.sessionId() + "' in progress";
        } else if (!r.ready) {
            problem = "round " + p.round() + " has not begun on the edge yet";
        } else if (r.finishing) {
            problem = "round " + p.round() + " was already pushed";
        } else if (r.move != null) {
            problem = "the device is moving to '" + r.move.to + "'; push once the move is done";
        } else if (p.batches() < r.segmentStart || p.samples() < 1
                || p.samples() > p.batches() * (long) r.ins.batchSize() || p.correct() < 0
                || p.correct() > p.samples() || !Double.isFinite(p.loss()) || p.bytesUp() < 0 || p.bytesDown() < 0) {
            problem = "implausible round report: " + p.batches() + " batches (at least " + r.segmentStart
                    + " were trained), " + p.samples() + " samples (at most batches x " + r.ins.batchSize()
                    + "), " + p.correct() + " correct, loss " + p.loss();
        }
        if (problem != null) {
            String why = problem;
            return effects.none().thenRun(x -> p.replyTo().tell(StatusReply.error(why)));
        }
        r.finishing = true;
        r.pushed = p;
        if (!r.ins.offloaded()) {
            return settle(s, r, List.of(p.weights()), null);
        }
        RecipientRef<?> edge = r.ins.parallel() ? services.roundMaster(r.ins.sessionId(), r.edge)
                : services.offloaded(r.ins.sessionId(), deviceId, r.edge);
        int round = r.ins.round();
        int attempt = r.ins.attempt();
        ctx.ask(StatusReply.class, cast(edge), services.askTimeout(),
                ref -> r.ins.parallel() ? new RoundMaster.Finish(round, attempt, deviceId, castReply(ref))
                        : new OffloadedTraining.FinishRound(round, attempt, r.epoch, castReply(ref)),
                (reply, failure) -> remote(failure != null
                        ? new ServerFinished(round, attempt, null, "edge did not answer: " + failure.getMessage())
                        : reply.isError() ? new ServerFinished(round, attempt, null, reply.getError().getMessage())
                                : new ServerFinished(round, attempt, (ModelRef) reply.getValue(), null)));
        return effects.none();
    }

    private Effect<Device.Event, Device.State> onServerFinished(Device.State s, ServerFinished c) {
        if (run == null || !run.is(c.round(), c.attempt()) || run.pushed == null) {
            return effects.none();
        }
        if (c.failure() != null) {
            run.pushed.replyTo().tell(StatusReply.error("the edge could not finish its half: " + c.failure()));
            return fail("the edge could not finish its half: " + c.failure());
        }
        return settle(s, run, List.of(run.pushed.weights(), c.serverWeights()),
                new Device.BatchesDone(run.ins.sessionId(), run.ins.round(), run.ins.attempt(), run.segmentStart,
                        run.pushed.batches(), run.edge));
    }

    /** The battery pays for the round (or runs out, and the update is dropped); the session gets the result. */
    private Effect<Device.Event, Device.State> settle(Device.State s, Run r, List<ModelRef> parts,
                                                      Device.BatchesDone last) {
        Pushed p = r.pushed;
        double joules = EnergyUse.joules(r.ins, p.samples(), p.bytesUp() + p.bytesDown());
        double left = s.batteryJoules();
        Device.EnergySpent spent = new Device.EnergySpent(r.ins.sessionId(), r.ins.round(), r.ins.attempt(),
                Math.min(joules, left));
        List<Device.Event> events = new ArrayList<>(Arrays.asList(last, spent));
        events.removeIf(Objects::isNull);
        if (last != null && last.to() <= last.from()) {
            events.remove(last);
        }
        long perEpoch = Math.max(1, p.samples() / Math.max(1, r.ins.localEpochs()));
        double seconds = (System.nanoTime() - r.started) / 1e9;
        DeviceResult res = joules > left ? DeviceResult.failed(deviceId, r.ins, String.format(
                "battery ran out during round %d: it needed %.1f J and had %.1f J", r.ins.round(), joules, left))
                : new DeviceResult(deviceId, r.ins.round(), r.ins.attempt(), perEpoch, parts, p.loss(),
                        (double) p.correct() / p.samples(), p.bytesUp(), p.bytesDown(), seconds,
                        p.batches() == 0 ? 0 : seconds * 1000 / p.batches(), r.moves, null, r.homeEdge);
        return effects.persist(events).thenRun(x -> {
            if (run == r) {
                run = null;
            }
            r.replyTo.tell(res);
            p.replyTo().tell(res.ok() ? StatusReply.success("round " + r.ins.round() + " reported: "
                    + res.samples() + " samples, loss " + String.format("%.4f", res.loss()))
                    : StatusReply.error(res.error()));
        });
    }

    private Effect<Device.Event, Device.State> onLeave(Device.State s, Leave c) {
        Run r = run;
        if (r != null) {
            run = null;
            r.replyTo.tell(DeviceResult.failed(deviceId, r.ins, "device '" + deviceId + "' left its edge during round "
                    + r.ins.round()));
        }
        String edge = s.edgeId();
        if (edge == null) {
            return effects.none().thenRun(x -> c.replyTo().tell(StatusReply.ack()));
        }
        return effects.persist(new Device.AttachedTo(null)).thenRun(x -> {
            services.edge(edge).tell(new EdgeServer.Detach(deviceId, ctx.getSystem().ignoreRef()));
            c.replyTo().tell(StatusReply.ack());
        });
    }

    private Effect<Device.Event, Device.State> fail(String why) {
        Run r = run;
        run = null;
        ctx.getLog().warn("{}: round {} failed: {}", deviceId, r.ins.round(), why);
        return effects.none().thenRun(x -> r.replyTo.tell(DeviceResult.failed(deviceId, r.ins, why)));
    }

    private static Device.Command remote(Command c) {
        return new Device.Remote(c);
    }

    private static RecipientRef<Object> cast(RecipientRef<?> r) {
        return Device.castRecipient(r);
    }

    private static <T> ActorRef<StatusReply<T>> castReply(ActorRef<StatusReply> r) {
        return Device.castReply(r);
    }
}
