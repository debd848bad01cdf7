package ferry.actors.session;

import ferry.actors.device.Device;
import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import ferry.zoo.plan.PlanEdge;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One learning task. It runs rounds: each round every participant trains from the global model (how, the
 * algorithm says), the results are aggregated into the next global model, which is evaluated and committed with
 * the round's metrics. A committed round is never redone: after a crash the session resumes with the first
 * uncommitted round, as a new attempt, so late answers of the lost attempt are recognised and ignored.
 */
public final class TrainingSession
        extends EventSourcedBehavior<TrainingSession.Command, TrainingSession.Event, TrainingSession.State> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "TrainingSession");
    /** A round with no successful participant is retried this many times before the session fails. */
    static final int MAX_ATTEMPTS = 3;

    public sealed interface Command extends CborSerializable {}

    /** Creates and starts the session; creating it again with the same spec is a no-op. */
    public record Create(SessionSpec spec, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record Get(ActorRef<State> replyTo) implements Command {}

    /** An operator stops the session: the round in progress is abandoned, nothing more is dispatched. */
    public record Stop(String reason, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /** Wakes a session after a restart so it resumes its round (any command does; this one does nothing else). */
    public record Wake() implements Command {}

    record Report(DeviceResult result) implements Command {}

    record RoundTimedOut(int round, int attempt) implements Command {}

    /** {@code how}: where the round was averaged (flat here, or edges then cloud), for the round's metrics. */
    record Aggregated(int round, int attempt, ModelRef global, double testAccuracy, double testLoss, String error,
                      String how) implements Command {}

    /** An "auto" round's plan is ready (or could not be made). */
    record Orchestrated(int round, int attempt, List<DevicePlan> plan, String error) implements Command {}

    /** A participant of an "auto" round is attached to its planned edge (or could not be). */
    record Attached(int round, int attempt, String deviceId, String error) implements Command {}

    /** A parallel session's layout is ready (or could not be made): the creation goes on. */
    record Planned(Create create, SessionPlan plan, String error) implements Command {}

    public sealed interface Event extends CborSerializable {}

    /** {@code plan} is null for algorithms that are not planned (all but psl and epsl). */
    public record Created(SessionSpec spec, ModelRef initialModel, SessionPlan plan) implements Event {}

    public record RoundStarted(int round, int attempt) implements Event {}

    /** An "auto" round's plan: who trains where and how, and why (see {@link RoundOrchestrator}). */
    public record RoundPlanned(int round, int attempt, List<DevicePlan> devices) implements Event {}

    public record RoundCompleted(ModelRef global, RoundMetrics metrics) implements Event {}

    public record Finished(double finalAccuracy) implements Event {}

    public record Failed(String reason) implements Event {}

    public record Stopped(String reason) implements Event {}

    public enum Status { NEW, RUNNING, FINISHED, FAILED, STOPPED }

    /** {@code round} is the round being run (or the last one, when finished). */
    public record State(String sessionId, SessionSpec spec, Status status, int round, int attempt, ModelRef global,
                        List<RoundMetrics> history, String failure, SessionPlan plan,
                        List<RoundPlanned> roundPlans) implements CborSerializable {
        public State {
            history = List.copyOf(history);
            roundPlans = roundPlans == null ? List.of() : List.copyOf(roundPlans);
        }

        State with(Status st, int r, int a, ModelRef g, List<RoundMetrics> h, String f) {
            return new State(sessionId, spec, st, r, a, g, h, f, plan, roundPlans);
        }

        /** The spec the rounds run with: the plan's cut where there is a plan. */
        public SessionSpec runSpec() {
            return plan == null || spec == null ? spec : spec.withCut(plan.cut());
        }
    }

    private final String sessionId;
    private final FerryServices services;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final ActorRef<DeviceResult> reports;
    /** Results of the attempt in progress; not persisted (a lost attempt is simply run again). */
    private final Map<String, DeviceResult> results = new LinkedHashMap<>();
    private long attemptStarted;
    /** When the attempt's last device reported: training ends, aggregation and evaluation begin. */
    private long trainEnded;
    /** Sequential algorithms: the model the last device left, where the next one starts. */
    private ModelRef chainModel;
    private boolean aggregating;
    private boolean dispatched;
    /** An "auto" attempt's participants (null otherwise, or before the plan is made). */
    private List<String> participants;

    private TrainingSession(ActorContext<Command> ctx, TimerScheduler<Command> timers, String sessionId,
                            FerryServices services) {
        super(PersistenceId.of(TYPE_KEY.name(), sessionId));
        this.ctx = ctx;
        this.timers = timers;
        this.sessionId = sessionId;
        this.services = services;
        this.reports = ctx.messageAdapter(DeviceResult.class, Report::new);
    }

    public static Behavior<Command> create(String sessionId, FerryServices services) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new TrainingSession(ctx, t, sessionId, services)));
    }

    @Override
    public State emptyState() {
        return new State(sessionId, null, Status.NEW, 0, 0, null, List.of(), null, null, List.of());
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Create.class, this::onCreate)
                .onCommand(Get.class, (s, c) -> resumeIfIdle(s).thenRun(x -> c.replyTo().tell(x)))
                .onCommand(Wake.class, (s, c) -> resumeIfIdle(s))
                .onCommand(Report.class, this::onReport)
                .onCommand(RoundTimedOut.class, this::onTimeout)
                .onCommand(Aggregated.class, this::onAggregated)
                .onCommand(Planned.class, this::onPlanned)
                .onCommand(Orchestrated.class, this::onOrchestrated)
                .onCommand(Stop.class, (s, c) -> {
                    if (s.status() == Status.NEW) {
                        return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                                "no session '" + sessionId + "'")));
                    }
                    if (s.status() != Status.RUNNING) {
                        return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                                "session '" + sessionId + "' is " + s.status().name().toLowerCase()
                                        + " already")));
                    }
                    timers.cancel("round-timeout");
                    return Effect().persist(new Stopped(c.reason())).thenRun(x -> {
                        dispatched = false;
                        c.replyTo().tell(StatusReply.ack());
                    });
                })
                .onCommand(Attached.class, this::onAttached)
                .build();
    }

    private Effect<Event, State> onCreate(State s, Create c) {
        if (s.status() != Status.NEW) {
            if (s.spec().equals(c.spec())) {
                return resumeIfIdle(s).thenRun(x -> c.replyTo().tell(StatusReply.ack()));
            }
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "session '" + sessionId + "' already exists with another spec")));
        }
        if (Algorithms.byName(c.spec().algorithm()).parallel()) {
            // The resource manager needs every device's profile and edge: ask them, plan off this thread.
            ctx.pipeToSelf(planFor(c.spec()), (plan, err) -> new Planned(c, plan,
                    err == null ? null : String.valueOf(rootCause(err).getMessage())));
            return Effect().none();
        }
        return start(c, null);
    }

    private Effect<Event, State> onPlanned(State s, Planned p) {
        if (s.status() != Status.NEW) { // created meanwhile (a repeated Create)
            return onCreate(s, p.create());
        }
        if (p.error() != null) {
            return Effect().none().thenRun(x -> p.create().replyTo().tell(StatusReply.error(
                    "cannot plan the session: " + p.error())));
        }
        ctx.getLog().info("session {}: {}", sessionId, p.plan().reason());
        return start(p.create(), p.plan());
    }

    private Effect<Event, State> start(Create c, SessionPlan plan) {
        ModelRef initial;
        try {
            initial = Aggregation.initial(c.spec(), services);
        } catch (RuntimeException e) {
            return Effect().none().thenRun(x -> c.replyTo().tell(StatusReply.error(
                    "cannot create the initial model: " + e.getMessage())));
        }
        return Effect().persist(List.of(new Created(c.spec(), initial, plan), new RoundStarted(1, 1)))
                .thenRun(x -> {
                    c.replyTo().tell(StatusReply.ack());
                    dispatch(x);
                });
    }

    private CompletionStage<SessionPlan> planFor(SessionSpec spec) {
        PlanEdge edge = SessionPlanner.edgeFromConfig(ctx.getSystem().settings().config());
        return services.deviceStates(spec.devices(), ctx.getSystem().scheduler())
                .thenApplyAsync(states -> SessionPlanner.plan(spec, states, edge), services.blockingExecutor());
    }

    private static Throwable rootCause(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** After a restart the live attempt is gone: start the uncommitted round again as a new attempt. */
    private EffectBuilder<Event, State> resumeIfIdle(State s) {
        if (s.status() != Status.RUNNING || dispatched) {
            return Effect().none();
        }
        ctx.getLog().info("session {} resumes round {} (attempt {})", sessionId, s.round(), s.attempt() + 1);
        return Effect().persist(new RoundStarted(s.round(), s.attempt() + 1)).thenRun(this::dispatch);
    }

    private void dispatch(State s) {
        results.clear();
        aggregating = false;
        dispatched = true;
        attemptStarted = System.nanoTime();
        TrainingAlgorithm algo = Algorithms.byName(s.spec().algorithm());
        chainModel = s.global();
        participants = null;
        if (algo.orchestrated()) {
            int round = s.round();
            int attempt = s.attempt();
            ctx.pipeToSelf(orchestrate(s.spec()), (plan, err) -> new Orchestrated(round, attempt, plan,
                    err == null ? null : String.valueOf(rootCause(err).getMessage())));
            timers.startSingleTimer("round-timeout", new RoundTimedOut(round, attempt),
                    Duration.ofSeconds(s.spec().roundTimeoutSeconds()));
            return;
        }
        List<String> first = algo.sequential() ? s.spec().devices().subList(0, 1) : s.spec().devices();
        for (String d : first) {
            services.device(d).tell(new Device.TrainRound(
                    algo.instruct(sessionId, s.runSpec(), d, s.round(), s.attempt(), s.global()), reports));
        }
        timers.startSingleTimer("round-timeout", new RoundTimedOut(s.round(), s.attempt()),
                Duration.ofSeconds(s.spec().roundTimeoutSeconds()));
    }

    private Effect<Event, State> onReport(State s, Report c) {
        DeviceResult r = c.result();
        if (s.status() != Status.RUNNING || r.round() != s.round() || r.attempt() != s.attempt() || aggregating
                || !s.spec().devices().contains(r.deviceId())) {
            return Effect().none(); // a late answer of an abandoned attempt
        }
        results.put(r.deviceId(), r);
        if (results.size() == expected(s).size()) {
            return aggregate(s);
        }
        TrainingAlgorithm algo = Algorithms.byName(s.spec().algorithm());
        if (algo.sequential()) {
            // The next device starts from the model this one left (or from the last good one if it failed).
            try {
                if (r.ok()) {
                    chainModel = ModelBlobs.putWeights(services.blobs(), ModelBlobs.join(services.blobs(),
                            r.parts()));
                }
            } catch (RuntimeException e) {
                ctx.getLog().warn("session {}: cannot pass {}'s model on: {}", sessionId, r.deviceId(), e.toString());
            }
            String next = s.spec().devices().get(results.size());
            services.device(next).tell(new Device.TrainRound(
                    algo.instruct(sessionId, s.runSpec(), next, s.round(), s.attempt(), chainModel), reports));
        }
        return Effect().none();
    }

    private Effect<Event, State> onTimeout(State s, RoundTimedOut c) {
        if (s.status() != Status.RUNNING || c.round() != s.round() || c.attempt() != s.attempt() || aggregating) {
            return Effect().none();
        }
        for (String d : expected(s)) {
            results.putIfAbsent(d, new DeviceResult(d, s.round(), s.attempt(), 0, List.of(), 0, 0, 0, 0, 0, 0,
                    List.of(), "no answer within " + s.spec().roundTimeoutSeconds() + " s", null));
        }
        return aggregate(s);
    }

    /**
     * Averaged edge by edge, then in the cloud, when the algorithm averages, it is switched on, every update
     * came through an edge, and a cloud node is up.
     */
    private boolean hierarchical(State s, List<DeviceResult> ok) {
        if (!ctx.getSystem().settings().config().getBoolean("ferry.hierarchical-aggregation")
                || !Algorithms.byName(s.spec().algorithm()).averages()
                || ok.stream().anyMatch(r -> r.edgeId() == null)) {
            return false;
        }
        return java.util.stream.StreamSupport.stream(
                        org.apache.pekko.cluster.typed.Cluster.get(ctx.getSystem()).state().getMembers()
                                .spliterator(), false)
                .anyMatch(m -> m.hasRole(ferry.actors.cloud.CloudAggregator.ROLE)
                        && m.status() == org.apache.pekko.cluster.MemberStatus.up());
    }

    /** The session has failed for good: nothing is dispatched any more. */
    private void failed() {
        dispatched = false;
        services.metrics().roundFailed();
    }

    /** The devices whose reports the attempt waits for: an "auto" round's participants, else all. */
    private List<String> expected(State s) {
        return participants != null ? participants : s.spec().devices();
    }

    /** Gathers what the orchestrator needs (every device's and every candidate edge's state), off this thread. */
    private CompletionStage<List<DevicePlan>> orchestrate(SessionSpec spec) {
        var scheduler = ctx.getSystem().scheduler();
        return services.deviceStates(spec.devices(), scheduler).thenCompose(ds -> {
            java.util.Set<String> edgeIds = new java.util.TreeSet<>(spec.options().edges());
            ds.values().stream().map(Device.State::edgeId).filter(java.util.Objects::nonNull).forEach(edgeIds::add);
            return services.edgeStates(edgeIds, scheduler).thenApplyAsync(es -> RoundOrchestrator.plan(spec, ds, es,
                    d -> services.datasets().partitionSize(d.data()), ctx.getSystem().settings().config()),
                    services.blockingExecutor());
        });
    }

    private Effect<Event, State> onOrchestrated(State s, Orchestrated c) {
        if (s.status() != Status.RUNNING || c.round() != s.round() || c.attempt() != s.attempt()) {
            return Effect().none();
        }
        if (c.error() != null) {
            return retryOrFail(s, "round " + s.round() + " could not be planned: " + c.error());
        }
        List<DevicePlan> going = c.plan().stream().filter(DevicePlan::participates).toList();
        if (going.isEmpty()) {
            timers.cancel("round-timeout");
            String why = "no device can take part in round " + s.round() + ": " + c.plan().stream()
                    .map(p -> p.deviceId() + " (" + p.reason() + ")").toList();
            return Effect().persist(List.of(new RoundPlanned(c.round(), c.attempt(), c.plan()), new Failed(why)))
                    .thenRun(x -> failed());
        }
        participants = going.stream().map(DevicePlan::deviceId).toList();
        return Effect().persist(new RoundPlanned(c.round(), c.attempt(), c.plan())).thenRun(x -> {
            for (DevicePlan p : going) {
                ctx.askWithStatus(Done.class, services.device(p.deviceId()), services.askTimeout(),
                        ref -> new Device.AttachTo(p.edgeId(), ref),
                        (done, failure) -> new Attached(c.round(), c.attempt(), p.deviceId(),
                                failure == null ? null : failure.getMessage()));
            }
        });
    }

    /** An attached participant gets its instruction: offloaded at its planned cut, or local (FedAvg). */
    private Effect<Event, State> onAttached(State s, Attached c) {
        if (s.status() != Status.RUNNING || c.round() != s.round() || c.attempt() != s.attempt()) {
            return Effect().none();
        }
        if (c.error() != null) {
            return onReport(s, new Report(new DeviceResult(c.deviceId(), c.round(), c.attempt(), 0, List.of(), 0, 0,
                    0, 0, 0, 0, List.of(), "cannot attach to its planned edge: " + c.error(), null)));
        }
        DevicePlan p = s.roundPlans().get(s.roundPlans().size() - 1).devices().stream()
                .filter(d -> d.deviceId().equals(c.deviceId())).findFirst().orElseThrow();
        SessionSpec spec = s.spec();
        RoundInstruction ins = p.offloaded()
                ? Algorithms.SPLITFED.instruct(sessionId, spec.withCut(p.cut()), c.deviceId(), c.round(),
                        c.attempt(), s.global())
                : Algorithms.FEDAVG.instruct(sessionId, spec, c.deviceId(), c.round(), c.attempt(), s.global());
        services.device(c.deviceId()).tell(new Device.TrainRound(ins, reports));
        return Effect().none();
    }

    private Effect<Event, State> retryOrFail(State s, String why) {
        timers.cancel("round-timeout");
        if (s.attempt() >= MAX_ATTEMPTS) {
            return Effect().persist(new Failed(why)).thenRun(x -> failed());
        }
        ctx.getLog().warn("session {}: {}; retrying", sessionId, why);
        return Effect().persist(new RoundStarted(s.round(), s.attempt() + 1)).thenRun(this::dispatch);
    }

    private Effect<Event, State> aggregate(State s) {
        timers.cancel("round-timeout");
        List<DeviceResult> ok = results.values().stream().filter(DeviceResult::ok).toList();
        if (ok.isEmpty()) {
            String why = "round " + s.round() + " attempt " + s.attempt() + ": no device finished ("
                    + failures().get(0) + ")";
            if (s.attempt() >= MAX_ATTEMPTS) {
                return Effect().persist(new Failed(why)).thenRun(x -> failed());
            }
            ctx.getLog().warn("session {}: {}; retrying", sessionId, why);
            return Effect().persist(new RoundStarted(s.round(), s.attempt() + 1)).thenRun(this::dispatch);
        }
        aggregating = true;
        trainEnded = System.nanoTime();
        int round = s.round();
        int attempt = s.attempt();
        CompletionStage<Aggregation.Outcome> outcome = hierarchical(s, ok)
                ? Aggregation.hierarchical(sessionId, round, s.spec(), ok, services, ctx.getSystem())
                : CompletableFuture.supplyAsync(() -> Aggregation.run(s.spec(), ok, services),
                        services.blockingExecutor());
        ctx.pipeToSelf(outcome,
                (out, err) -> err == null
                        ? new Aggregated(round, attempt, out.global(), out.testAccuracy(), out.testLoss(), null,
                                out.how())
                        : new Aggregated(round, attempt, null, 0, 0,
                                String.valueOf(rootCause(err).getMessage()), null));
        return Effect().none();
    }

    private List<String> failures() {
        List<String> f = new ArrayList<>();
        for (DeviceResult r : results.values()) {
            if (!r.ok()) {
                f.add(r.deviceId() + ": " + r.error());
            }
        }
        return f;
    }

    private Effect<Event, State> onAggregated(State s, Aggregated c) {
        if (s.status() != Status.RUNNING || c.round() != s.round() || c.attempt() != s.attempt()) {
            return Effect().none();
        }
        aggregating = false;
        if (c.error() != null) {
            ctx.getLog().error("session {}: aggregation of round {} failed: {}", sessionId, c.round(), c.error());
            return Effect().persist(new Failed("aggregation of round " + c.round() + " failed: " + c.error()))
                    .thenRun(x -> failed());
        }
        List<DeviceResult> ok = results.values().stream().filter(DeviceResult::ok).toList();
        long samples = ok.stream().mapToLong(DeviceResult::samples).sum();
        double loss = ok.stream().mapToDouble(r -> r.loss() * r.samples()).sum() / samples;
        double acc = ok.stream().mapToDouble(r -> r.trainAccuracy() * r.samples()).sum() / samples;
        // Steps of the round: the device with the most samples decides (they step together in PSL/EPSL).
        long steps = ok.stream().mapToLong(r -> (r.samples() + s.spec().batchSize() - 1) / s.spec().batchSize())
                .max().orElse(0);
        double measuredStep = ok.stream().mapToDouble(DeviceResult::stepMillisMedian).max().orElse(0) / 1e3;
        double predictedStep = s.plan() == null ? 0 : s.plan().predictedStepSeconds();
        RoundMetrics m = new RoundMetrics(c.round(), c.attempt(), loss, acc, c.testAccuracy(), c.testLoss(),
                (System.nanoTime() - attemptStarted) / 1e9,
                ok.stream().mapToLong(DeviceResult::bytesUp).sum(),
                ok.stream().mapToLong(DeviceResult::bytesDown).sum(), ok.size(), failures(),
                ok.stream().flatMap(r -> r.moves().stream()).toList(), (trainEnded - attemptStarted) / 1e9,
                measuredStep, predictedStep, predictedStep * steps, c.how());
        services.metrics().roundCommitted(m.bytesUp(), m.bytesDown());
        List<Event> events = new ArrayList<>();
        events.add(new RoundCompleted(c.global(), m));
        double target = s.spec().options().targetAccuracy();
        if (c.round() >= s.spec().rounds() || (target > 0 && c.testAccuracy() >= target)) {
            events.add(new Finished(c.testAccuracy()));
        } else {
            events.add(new RoundStarted(c.round() + 1, 1));
        }
        return Effect().persist(events).thenRun(x -> {
            if (x.status() == Status.RUNNING) {
                dispatch(x);
            } else {
                dispatched = false;
            }
        });
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Created.class, (s, e) -> new State(sessionId, e.spec(), Status.RUNNING, 0, 0,
                        e.initialModel(), List.of(), null, e.plan(), List.of()))
                .onEvent(RoundPlanned.class, (s, e) -> {
                    List<RoundPlanned> plans = new ArrayList<>(s.roundPlans());
                    plans.add(e);
                    return new State(sessionId, s.spec(), s.status(), s.round(), s.attempt(), s.global(),
                            s.history(), s.failure(), s.plan(), plans);
                })
                .onEvent(RoundStarted.class, (s, e) -> s.with(Status.RUNNING, e.round(), e.attempt(), s.global(),
                        s.history(), null))
                .onEvent(RoundCompleted.class, (s, e) -> {
                    List<RoundMetrics> h = new ArrayList<>(s.history());
                    h.add(e.metrics());
                    return s.with(s.status(), s.round(), s.attempt(), e.global(), h, null);
                })
                .onEvent(Finished.class, (s, e) -> s.with(Status.FINISHED, s.round(), s.attempt(), s.global(),
                        s.history(), null))
                .onEvent(Failed.class, (s, e) -> s.with(Status.FAILED, s.round(), s.attempt(), s.global(),
                        s.history(), e.reason()))
                .onEvent(Stopped.class, (s, e) -> s.with(Status.STOPPED, s.round(), s.attempt(), s.global(),
                        s.history(), "stopped: " + e.reason()))
                .build();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.instance(), s -> {
                    if (s.status() == Status.RUNNING) {
                        ctx.getSelf().tell(new Wake());
                    }
                })
                .build();
    }
}
