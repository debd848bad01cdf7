package ferry.grpc;

import com.google.protobuf.ByteString;
import ferry.actors.device.Device;
import ferry.actors.device.RemoteTraining;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.edge.RoundMaster;
import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.RoundInstruction;
import ferry.grpc.proto.Assignment;
import ferry.grpc.proto.AttachReply;
import ferry.grpc.proto.AttachRequest;
import ferry.grpc.proto.DetachReply;
import ferry.grpc.proto.DetachRequest;
import ferry.grpc.proto.EdgeServicePowerApi;
import ferry.grpc.proto.ModelChunk;
import ferry.grpc.proto.NextRoundRequest;
import ferry.grpc.proto.PullRequest;
import ferry.grpc.proto.PushChunk;
import ferry.grpc.proto.PushHeader;
import ferry.grpc.proto.PushReply;
import ferry.grpc.proto.Redirect;
import ferry.grpc.proto.StepReply;
import ferry.grpc.proto.StepRequest;
import ferry.zoo.train.NamedTensor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The device data plane of one node ({@code ferry_edge.proto}): real devices attach, learn their round, pull
 * their part of the global model, step, and push their trained weights. Every call is checked before anything
 * reaches an actor: the device's token (against the hash in its registration), its round (session, round,
 * attempt, attachment epoch), and a step's payload (dtype, shape against the model's cut layer, size, finite
 * values, labels). Steps go straight to the device's server half on this node ({@link OffloadedTraining}, or
 * the {@link RoundMaster} of a parallel round); a step for a device that has moved to another edge is answered
 * with a redirect there. Every refusal is a gRPC status whose message says what was wrong; nothing is trained
 * on a refused request, and no request can stop the service from serving the others.
 */
public final class EdgeGrpcService implements EdgeServicePowerApi {
    /** The last step answered per device, so a retry of it (its answer was lost) gets the same answer. */
    private record Answered(String sessionId, int round, int attempt, long cursor, ByteString activations,
                            List<Integer> labels, StepReply reply) {
        boolean sameAs(StepRequest r) {
            return r.getSessionId().equals(sessionId) && r.getRound() == round && r.getAttempt() == attempt
                    && r.getCursor() == cursor && r.getActivations().getData().equals(activations)
                    && r.getLabelsList().equals(labels);
        }
    }

    private final ActorSystem<?> system;
    private final FerryServices services;
    private final GrpcSettings settings;
    private final Set<String> edges = ConcurrentHashMap.newKeySet();
    private final DeviceViews views;
    private final Map<String, Answered> answered = new ConcurrentHashMap<>();
    private volatile String endpoint = "";

    /** {@code edges}: the edges this node hosts (more may be added with {@link #host}). */
    public EdgeGrpcService(ActorSystem<?> system, FerryServices services, GrpcSettings settings,
                           Collection<String> edges) {
        this.system = system;
        this.services = services;
        this.settings = settings;
        this.edges.addAll(edges);
        this.views = new DeviceViews(system, services, settings.viewTtl());
    }

    /** This node serves the steps of {@code edgeId} from now on. */
    public void host(String edgeId) {
        edges.add(edgeId);
    }

    /** The host:port devices reach this service at (known once it is bound). */
    public void endpoint(String hostPort) {
        this.endpoint = hostPort;
    }

    @Override
    public CompletionStage<AttachReply> attach(AttachRequest in, Metadata md) {
        String id = in.getDeviceId();
        return mapped(views.authenticate(id, auth(md)).thenCompose(v -> {
            String edge = in.getEdgeId().isEmpty() ? onlyEdge() : in.getEdgeId();
            if (!DeviceViews.ID.matcher(edge).matches()) {
                throw Refusals.invalid("edge_id must be 1-64 of A-Z a-z 0-9 . _ -");
            }
            // A device in a round that attaches elsewhere moves there (FedFly hand-off); otherwise it re-attaches.
            return AskPattern.<Device.Command, Done>askWithStatus(services.device(id),
                    r -> new Device.MoveTo(edge, r), services.askTimeout(), system.scheduler());
        }).thenCompose(d -> views.refresh(id)).thenCompose(v -> views.endpoint(v.edgeId())
                .thenApply(ep -> AttachReply.newBuilder().setEdgeId(v.edgeId()).setEndpoint(ep)
                        .setEpoch(v.round().epoch()).build())));
    }

    @Override
    public CompletionStage<DetachReply> detach(DetachRequest in, Metadata md) {
        String id = in.getDeviceId();
        return mapped(views.authenticate(id, auth(md)).thenCompose(v -> AskPattern.<Device.Command, Done>askWithStatus(
                services.device(id), r -> new Device.Remote(new RemoteTraining.Leave(r)), services.askTimeout(),
                system.scheduler()).thenApply(d -> {
                    answered.remove(id);
                    return DetachReply.newBuilder().setEdgeId(v.edgeId() == null ? "" : v.edgeId()).build();
                })));
    }

    @Override
    public CompletionStage<Assignment> nextRound(NextRoundRequest in, Metadata md) {
        String id = in.getDeviceId();
        long wait = Math.max(0, Math.min(in.getWaitMillis(), settings.maxWait().toMillis()));
        return mapped(views.authenticate(id, auth(md))
                .thenCompose(v -> AskPattern.<Device.Command, RemoteTraining.Offer>ask(services.device(id),
                        r -> new Device.Remote(new RemoteTraining.AwaitRound(wait, r)),
                        services.askTimeout().plusMillis(wait), system.scheduler()))
                .thenCompose(o -> {
                    if (!o.present()) {
                        return CompletableFuture.completedFuture(Assignment.newBuilder().setHasRound(false).build());
                    }
                    CompletionStage<String> ep = o.edgeId() == null ? CompletableFuture.completedFuture(endpoint)
                            : views.endpoint(o.edgeId());
                    return ep.thenApply(e -> assignment(o, e));
                }));
    }

    private static Assignment assignment(RemoteTraining.Offer o, String endpoint) {
        RoundInstruction i = o.instruction();
        return Assignment.newBuilder().setHasRound(true).setSessionId(i.sessionId()).setRound(i.round())
                .setAttempt(i.attempt()).setEpoch(o.epoch()).setOffloaded(i.offloaded()).setParallel(i.parallel())
                .setModel(i.model()).setDataset(i.dataset()).setCut(i.cut()).setBatchSize(i.batchSize())
                .setLocalEpochs(i.localEpochs()).setLearningRate(i.learningRate()).setSeed(i.seed())
                .setGlobalModel(i.global().sha256()).setEdgeId(o.edgeId() == null ? "" : o.edgeId())
                .setEndpoint(endpoint).setPhi(i.phi()).setSelector(i.selector())
                .setSelectionFraction(i.selectionFraction()).build();
    }

    @Override
    public Source<ModelChunk, NotUsed> pullModel(PullRequest in, Metadata md) {
        String id = in.getDeviceId();
        CompletionStage<List<ModelChunk>> chunks = mapped(views.authenticate(id, auth(md))
                .thenCompose(v -> naming(v, in.getSessionId(), in.getRound(), in.getAttempt())).thenCompose(v -> {
            RoundInstruction ins = current(v, in.getSessionId(), in.getRound(), in.getAttempt());
            return CompletableFuture.supplyAsync(() -> {
                List<NamedTensor> all = ModelBlobs.getWeights(services.blobs(), ins.global());
                byte[] bytes = ModelParts.encode(in.getWhole() || !ins.offloaded() ? all
                        : ModelParts.part(all, ins.cut()));
                List<ModelChunk> out = new ArrayList<>();
                int step = settings.modelChunkBytes();
                for (int at = 0; at < bytes.length; at += step) {
                    out.add(ModelChunk.newBuilder().setTotalBytes(bytes.length)
                            .setData(ByteString.copyFrom(bytes, at, Math.min(step, bytes.length - at))).build());
                }
                return out;
            }, services.blockingExecutor());
        }));
        return Source.completionStage(chunks).mapConcat(l -> l);
    }

    @Override
    public CompletionStage<StepReply> step(StepRequest in, Metadata md) {
        return mapped(views.authenticate(in.getDeviceId(), auth(md)).thenCompose(v -> step(v, in, false, true)));
    }

    /**
     * One step after the other on a stream: the same checks and routing as {@link #step}, one at a time, in order.
     * A refused step fails the stream with its status (the device opens another for what follows).
     */
    @Override
    public Source<StepReply, NotUsed> stepStream(Source<StepRequest, NotUsed> in, Metadata md) {
        String auth = auth(md);
        return in.mapAsync(1, req -> mapped(views.authenticate(req.getDeviceId(), auth)
                .thenCompose(v -> step(v, req, false, true))));
    }

    @Override
    public CompletionStage<StepReply> epslStep(StepRequest in, Metadata md) {
        return mapped(views.authenticate(in.getDeviceId(), auth(md)).thenCompose(v -> step(v, in, true, true)));
    }

    /**
     * Routes a step by the device's round: refused if it names another session, round or attempt, redirected if
     * the device's half is on another edge (or at another epoch), held off while a move runs; then the payload is
     * checked and the step goes to the server half. {@code mayRefresh}: the cached view may be out of date, so a
     * step that does not fit it makes the service ask the device's entity once more before refusing.
     */
    private CompletionStage<StepReply> step(RemoteTraining.View v, StepRequest req, boolean parallel,
                                            boolean mayRefresh) {
        String id = req.getDeviceId();
        RemoteTraining.Offer o = v.round();
        boolean fits = o.present() && o.instruction().sessionId().equals(req.getSessionId())
                && o.instruction().round() == req.getRound() && o.instruction().attempt() == req.getAttempt()
                && o.ready() && o.movingTo() == null && o.epoch() == req.getEpoch() && edges.contains(o.edgeId());
        if (!fits && mayRefresh) {
            return views.refresh(id).thenCompose(fresh -> step(fresh, req, parallel, false));
        }
        RoundInstruction ins = current(v, req.getSessionId(), req.getRound(), req.getAttempt());
        if (!ins.offloaded()) {
            throw Refusals.precondition("round " + ins.round() + " trains the whole model on the device: it has no "
                    + "steps");
        }
        if (ins.parallel() != parallel) {
            throw Refusals.precondition("round " + ins.round() + (ins.parallel() ? " is parallel (PSL/EPSL): send "
                    + "its steps with EpslStep" : " is not parallel: send its steps with Step"));
        }
        if (req.getCursor() < 0) {
            throw Refusals.invalid("step cursor " + req.getCursor() + " is negative");
        }
        if (!o.ready()) {
            throw Refusals.unavailable("round " + ins.round() + " is still starting on edge '" + o.edgeId()
                    + "'; retry shortly");
        }
        if (o.movingTo() != null) {
            throw Refusals.unavailable("device '" + id + "' is moving from edge '" + o.edgeId() + "' to '"
                    + o.movingTo() + "'; retry shortly");
        }
        if (!edges.contains(o.edgeId()) || req.getEpoch() < o.epoch()) {
            return redirect(req, o, edges.contains(o.edgeId()) ? "attachment epoch " + req.getEpoch()
                    + " is over: the device is at epoch " + o.epoch() + " on edge '" + o.edgeId() + "'"
                    : "device '" + id + "' trains with edge '" + o.edgeId() + "' now");
        }
        if (req.getEpoch() > o.epoch()) {
            throw Refusals.precondition("attachment epoch " + req.getEpoch() + " is ahead of the device's epoch "
                    + o.epoch());
        }
        Answered last = answered.get(id);
        if (last != null && last.sameAs(req)) {
            return CompletableFuture.completedFuture(last.reply()); // a retry: same answer, nothing trained again
        }
        byte[] act = StepPayload.checked(req, ins, settings.maxPayloadBytes());
        int[] labels = StepPayload.labels(req);
        CompletionStage<OffloadedTraining.StepReply> asked = parallel
                ? AskPattern.<RoundMaster.Command, OffloadedTraining.StepReply>ask(
                        services.roundMaster(ins.sessionId(), o.edgeId()), r -> new RoundMaster.Step(ins.round(),
                                ins.attempt(), id, req.getCursor(), act, labels, r), services.askTimeout(),
                        system.scheduler())
                : AskPattern.<OffloadedTraining.Command, OffloadedTraining.StepReply>ask(
                        services.offloaded(ins.sessionId(), id, o.edgeId()), r -> new OffloadedTraining.Step(
                                ins.round(), ins.attempt(), o.epoch(), req.getCursor(), act, labels, r), services.askTimeout(),
                        system.scheduler());
        return asked.thenCompose(r -> {
            if (r.ok()) {
                StepReply out = StepReply.newBuilder().setCursor(r.cursor()).setGradient(StepPayload.toWire(
                        r.gradient())).setLoss(r.loss()).setCorrect(r.correct()).build();
                answered.put(id, new Answered(req.getSessionId(), req.getRound(), req.getAttempt(), req.getCursor(),
                        req.getActivations().getData(), List.copyOf(req.getLabelsList()), out));
                return CompletableFuture.completedFuture(out);
            }
            // Refused by the half: perhaps the device has just been moved off this edge; if not, say why.
            return views.refresh(id).thenCompose(fresh -> {
                RemoteTraining.Offer f = fresh.round();
                if (f.present() && f.instruction().round() == req.getRound() && f.movingTo() != null) {
                    throw Refusals.unavailable("device '" + id + "' is moving from edge '" + f.edgeId() + "' to '"
                            + f.movingTo() + "'; retry shortly");
                }
                if (f.present() && f.instruction().round() == req.getRound() && f.epoch() != req.getEpoch()) {
                    return redirect(req, f, "device '" + id + "' was moved to edge '" + f.edgeId() + "'");
                }
                throw Refusals.precondition("edge '" + o.edgeId() + "' refused step " + req.getCursor() + ": "
                        + r.error());
            });
        });
    }

    private CompletionStage<StepReply> redirect(StepRequest req, RemoteTraining.Offer o, String reason) {
        return views.endpoint(o.edgeId()).thenApply(ep -> {
            if (ep.isEmpty()) {
                throw Refusals.unavailable("device '" + req.getDeviceId() + "' trains with edge '" + o.edgeId()
                        + "', which serves no gRPC endpoint");
            }
            return StepReply.newBuilder().setCursor(req.getCursor()).setRedirect(Redirect.newBuilder()
                    .setEdgeId(o.edgeId()).setEndpoint(ep).setEpoch(o.epoch()).setReason(reason)).build();
        });
    }

    /** The view, asked again from the device's entity if its cached round is not the one a request names. */
    private CompletionStage<RemoteTraining.View> naming(RemoteTraining.View v, String sessionId, int round,
                                                        int attempt) {
        RemoteTraining.Offer o = v.round();
        return o.present() && o.instruction().sessionId().equals(sessionId) && o.instruction().round() == round
                && o.instruction().attempt() == attempt ? CompletableFuture.completedFuture(v)
                : views.refresh(v.deviceId());
    }

    /** The device's round in progress, if the request names it; else NOT_FOUND or FAILED_PRECONDITION. */
    private static RoundInstruction current(RemoteTraining.View v, String sessionId, int round, int attempt) {
        RemoteTraining.Offer o = v.round();
        if (!o.present()) {
            throw Refusals.notFound("device '" + v.deviceId() + "' has no round in progress");
        }
        RoundInstruction i = o.instruction();
        if (!i.sessionId().equals(sessionId)) {
            throw Refusals.notFound("device '" + v.deviceId() + "' trains in no session '" + sessionId + "'");
        }
        if (i.round() != round || i.attempt() != attempt) {
            throw Refusals.precondition("round " + round + " attempt " + attempt + " of session '" + sessionId
                    + "' is not the device's round in progress (round " + i.round() + " attempt " + i.attempt()
                    + ")");
        }
        return i;
    }

    /** The weights pushed at a round's end: a header, then bytes, bounded by max-model-bytes. */
    private static final class Push {
        PushHeader header;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Push add(PushChunk c, int limit) {
            if (header == null) {
                if (!c.hasHeader()) {
                    throw Refusals.invalid("a push starts with a chunk that carries the header");
                }
                header = c.getHeader();
                if (header.getTotalBytes() < 1 || header.getTotalBytes() > limit) {
                    throw Refusals.tooLarge("a push of " + header.getTotalBytes() + " bytes: this edge takes 1.."
                            + limit + " bytes of weights");
                }
            } else if (c.hasHeader()) {
                throw Refusals.invalid("only the first chunk of a push carries a header");
            }
            if (bytes.size() + (long) c.getData().size() > header.getTotalBytes()) {
                throw Refusals.invalid("the push carries more than the " + header.getTotalBytes()
                        + " bytes its header announced");
            }
            byte[] b = c.getData().toByteArray();
            bytes.write(b, 0, b.length);
            return this;
        }
    }

    @Override
    public CompletionStage<PushReply> pushModel(Source<PushChunk, NotUsed> in, Metadata md) {
        String auth = auth(md);
        int limit = settings.maxModelBytes();
        CompletionStage<Push> pushed = in.runWith(Sink.fold(new Push(), (p, c) -> p.add(c, limit)), system);
        return mapped(pushed.thenCompose(p -> {
            if (p.header == null) {
                throw Refusals.invalid("an empty push: expected a header and the weights");
            }
            if (p.bytes.size() != p.header.getTotalBytes()) {
                throw Refusals.invalid("the push ended after " + p.bytes.size() + " of the " + p.header.getTotalBytes()
                        + " bytes its header announced");
            }
            PushHeader h = p.header;
            return views.authenticate(h.getDeviceId(), auth)
                    .thenCompose(v -> naming(v, h.getSessionId(), h.getRound(), h.getAttempt())).thenCompose(v -> {
                RoundInstruction ins = current(v, h.getSessionId(), h.getRound(), h.getAttempt());
                return CompletableFuture.supplyAsync(() -> {
                    List<NamedTensor> global = ModelBlobs.getWeights(services.blobs(), ins.global());
                    List<NamedTensor> weights = ModelParts.checkedPush(p.bytes.toByteArray(),
                            ins.offloaded() ? ModelParts.part(global, ins.cut()) : global);
                    return ModelBlobs.putWeights(services.blobs(), weights);
                }, services.blockingExecutor());
            }).thenCompose(ref -> AskPattern.<Device.Command, String>askWithStatus(services.device(h.getDeviceId()),
                    r -> new Device.Remote(new RemoteTraining.Pushed(h.getSessionId(), h.getRound(), h.getAttempt(),
                            ref, h.getBatches(), h.getSamples(), h.getLoss(), h.getCorrect(), h.getBytesUp(),
                            h.getBytesDown(), r)), services.askTimeout().multipliedBy(2), system.scheduler())
                    .thenApply(result -> PushReply.newBuilder().setModelRef(ref.sha256()).setResult(result).build()));
        }));
    }

    private String onlyEdge() {
        if (edges.size() != 1) {
            throw Refusals.invalid("this endpoint serves edges " + edges.stream().sorted().toList()
                    + ": name one in edge_id");
        }
        return edges.iterator().next();
    }

    private static String auth(Metadata md) {
        return md.getText("authorization").orElse(null);
    }

    /** Any failure as a gRPC status with a message (the edge's own refusals pass through unchanged). */
    private <T> CompletionStage<T> mapped(CompletionStage<T> s) {
        return s.handle((v, e) -> e == null ? CompletableFuture.completedFuture(v)
                : CompletableFuture.<T>failedFuture(status(e))).thenCompose(x -> x);
    }

    private Throwable status(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof StatusRuntimeException) {
            return e;
        }
        if (e instanceof StatusReply.ErrorMessage) {
            return Refusals.precondition(e.getMessage());
        }
        if (e instanceof TimeoutException) {
            return Refusals.unavailable("the cluster did not answer in time: " + e.getMessage());
        }
        if (e instanceof IllegalArgumentException) {
            return Refusals.invalid(e.getMessage());
        }
        system.log().error("device gRPC service: " + e, e);
        return new GrpcServiceException(Status.INTERNAL.withDescription("edge error: " + e));
    }
}
