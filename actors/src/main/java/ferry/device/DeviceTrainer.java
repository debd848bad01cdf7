package ferry.device;

import com.google.protobuf.UnsafeByteOperations;
import ferry.grpc.proto.Assignment;
import ferry.grpc.proto.DType;
import ferry.grpc.proto.PushHeader;
import ferry.grpc.proto.PushReply;
import ferry.grpc.proto.StepReply;
import ferry.grpc.proto.StepRequest;
import ferry.grpc.proto.TensorData;
import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.data.ImageDataset;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.select.DataSelector;
import ferry.zoo.select.DataSelectors;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.ModelState;
import ferry.zoo.train.ModelStateCodec;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.Net;
import ferry.zoo.train.SampleLosses;
import ferry.zoo.train.SgdConfig;
import ferry.zoo.train.StepResult;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.apache.pekko.actor.ClassicActorSystemProvider;

/**
 * A real device's training loop, the client library's core: it asks its edge for the round it must train, pulls
 * its part of the global model, trains it on its local data batch by batch (its half forward, the activations
 * to the edge, the cut-layer gradient back; or the whole model, in a local round), and pushes its weights at the
 * round's end. It trains exactly as a simulated device does (same batch order, same optimizer), so a device
 * outside the cluster and a simulated one with the same samples end with the same weights.
 *
 * <p>It follows the edge: a step answered with a redirect (the device was moved) goes to the new edge at the
 * new attachment epoch, and UNAVAILABLE (a move in progress, a connection being re-established) is retried with
 * backoff for up to {@code retryFor}. Anything else is an error with the edge's message.
 */
public final class DeviceTrainer implements AutoCloseable {
    /** What one round did. */
    public record RoundReport(String sessionId, int round, int attempt, long batches, long samples, double loss,
                              double accuracy, int redirects, String edgeId, String result, double seconds) {
        public String line() {
            return String.format("round %d (session %s, attempt %d): %d batches, %d samples, loss %.4f, train "
                            + "accuracy %.1f%%, %.1f s, edge %s%s; %s", round, sessionId, attempt, batches, samples,
                    loss, 100 * accuracy, seconds, edgeId.isEmpty() ? "(none: trained locally)" : edgeId,
                    redirects == 0 ? "" : " after " + redirects + " redirect(s)", result);
        }
    }

    /** A refusal or failure the trainer cannot get past, with the edge's message. */
    public static final class DeviceException extends RuntimeException {
        public DeviceException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Told after every step the edge answered (tests use it to act at a known point of a round). */
    public interface StepListener {
        void stepped(Assignment round, long cursor, long epoch);
    }

    private final ClassicActorSystemProvider system;
    private final EdgeConnection.Credentials creds;
    private final ImageDataset data;
    private final Consumer<String> log;
    private final Duration retryFor;
    private final Map<String, EdgeConnection> connections = new HashMap<>();
    /** Where the device polls for rounds (its first edge); steps go where the assignment or a redirect says. */
    private final String home;
    private String stepEndpoint;
    private String edgeId = "";
    private long epoch;
    private Net model;
    private String modelKey = "";
    private StepListener listener = (a, c, e) -> { };
    /** Split rounds step on one stream per edge ({@code StepStream}), parallel rounds with single calls. */
    private EdgeConnection.StepStream steps;
    private String stepsAt = "";

    public DeviceTrainer(ClassicActorSystemProvider system, String endpoint, EdgeConnection.Credentials creds,
                         ImageDataset data, Consumer<String> log, Duration retryFor) {
        this.system = system;
        this.creds = creds;
        this.data = data;
        this.log = log;
        this.retryFor = retryFor;
        this.home = endpoint;
        this.stepEndpoint = endpoint;
    }

    public DeviceTrainer onStep(StepListener l) {
        this.listener = l;
        return this;
    }

    /** The open step stream to the edge the device steps with now (a redirect or a failure closes it). */
    private EdgeConnection.StepStream steps() {
        if (steps != null && !stepsAt.equals(stepEndpoint)) {
            closeSteps();
        }
        if (steps == null) {
            steps = connection(stepEndpoint).openSteps();
            stepsAt = stepEndpoint;
        }
        return steps;
    }

    private void closeSteps() {
        if (steps != null) {
            steps.close();
            steps = null;
        }
    }

    /** The connection to an endpoint, opened once. */
    public EdgeConnection connection(String endpoint) {
        return connections.computeIfAbsent(endpoint, e -> new EdgeConnection(system, e, creds));
    }

    /** Attaches the device to an edge through its home endpoint (null: the one edge served there). */
    public String attach(String edge) {
        var r = call("attach", () -> connection(home).attach(edge));
        log.accept("attached to edge " + r.getEdgeId() + " at " + r.getEndpoint() + " (epoch " + r.getEpoch() + ")");
        return r.getEdgeId();
    }

    /**
     * Waits up to {@code wait} for a round, trains it and pushes the result; null if no round came. A round that
     * fails (refused, edge lost) throws, with the edge's message.
     */
    public RoundReport trainNext(Duration wait) {
        Assignment a = call("ask for a round", () -> connection(home).nextRound((int) Math.min(Integer.MAX_VALUE,
                wait.toMillis())));
        if (!a.getHasRound()) {
            return null;
        }
        return train(a);
    }

    private RoundReport train(Assignment a) {
        long t0 = System.nanoTime();
        stepEndpoint = a.getEndpoint().isEmpty() ? home : a.getEndpoint();
        edgeId = a.getEdgeId();
        epoch = a.getEpoch();
        log.accept("round " + a.getRound() + " of session " + a.getSessionId() + " (attempt " + a.getAttempt()
                + "): " + (a.getOffloaded() ? "split at cut " + a.getCut() + " with edge " + a.getEdgeId()
                + (a.getParallel() ? " (parallel, phi " + a.getPhi() + ")" : "") : "the whole model locally")
                + ", batch " + a.getBatchSize() + ", " + a.getLocalEpochs() + " local epoch(s)");
        ModelSpec spec = ModelSpecs.byName(a.getModel(), data.sampleShape(), 10);
        byte[] part = call("pull the global model", () -> connection(home).pull(a, false));
        prepare(a, spec).loadWeights(ModelStateCodec.decode(part).weights(), true);
        int[] indices = select(a, spec);
        BatchPlan plan = new BatchPlan(indices, a.getBatchSize(), a.getSeed() * 7919 + a.getRound());
        long total = (long) plan.batchesPerEpoch() * a.getLocalEpochs();
        double lossSum = 0;
        long correct = 0;
        long samples = 0;
        long up = 0; // step traffic only, as a simulated device counts it (model transfers: see EnergyUse)
        long down = 0;
        int redirects = 0;
        for (long cursor = 0; cursor < total; cursor++) {
            Batch b = data.batch(plan.batch(cursor));
            float loss;
            int right;
            if (a.getOffloaded()) {
                ClientHalf client = (ClientHalf) model;
                Tensor act = client.forward(b);
                StepRequest req = StepRequest.newBuilder().setDeviceId(creds.deviceId()).setSessionId(a.getSessionId())
                        .setRound(a.getRound()).setAttempt(a.getAttempt()).setCursor(cursor)
                        .setActivations(wire(act)).addAllLabels(Arrays.stream(b.labels()).boxed().toList()).build();
                Stepped s = stepFollowing(req, a.getParallel());
                redirects += s.redirects();
                StepReply r = s.reply();
                client.backward(fromWire(r.getGradient()));
                loss = r.getLoss();
                right = r.getCorrect();
                up += req.getActivations().getData().size() + 4L * b.size();
                down += r.getGradient().getData().size();
            } else {
                StepResult r = ((MonolithicModel) model).step(b);
                loss = r.loss();
                right = r.correct();
            }
            lossSum += (double) loss * b.size();
            correct += right;
            samples += b.size();
            listener.stepped(a, cursor, epoch);
        }
        byte[] weights = ModelStateCodec.encode(new ModelState(model.weights(), List.of(), 0));
        PushHeader h = PushHeader.newBuilder().setDeviceId(creds.deviceId()).setSessionId(a.getSessionId())
                .setRound(a.getRound()).setAttempt(a.getAttempt()).setEpoch(epoch).setBatches(total)
                .setSamples(samples).setLoss(samples == 0 ? 0 : lossSum / samples).setCorrect(correct)
                .setBytesUp(up).setBytesDown(down).build();
        closeSteps(); // the round's steps are done
        PushReply pushed = call("push the weights", () -> connection(stepEndpoint).push(h, weights));
        return new RoundReport(a.getSessionId(), a.getRound(), a.getAttempt(), total, samples,
                samples == 0 ? 0 : lossSum / samples, samples == 0 ? 0 : (double) correct / samples, redirects,
                edgeId, pushed.getResult(), (System.nanoTime() - t0) / 1e9);
    }

    private record Stepped(StepReply reply, int redirects) {}

    /** One step, wherever the device's server half is now: redirects followed, UNAVAILABLE retried. */
    private Stepped stepFollowing(StepRequest req, boolean parallel) {
        int redirects = 0;
        while (true) {
            StepRequest r = req.toBuilder().setEpoch(epoch).build();
            StepReply reply = call("step " + req.getCursor(), () -> parallel ? connection(stepEndpoint).step(r, true)
                    : steps().step(r).whenComplete((x, e) -> {
                        if (e != null) {
                            closeSteps(); // a failed stream stays failed: a retry opens another
                        }
                    }));
            if (!reply.hasRedirect()) {
                return new Stepped(reply, redirects);
            }
            if (++redirects > 5) {
                throw new DeviceException("step " + req.getCursor() + " was redirected " + redirects + " times in a "
                        + "row; last: " + reply.getRedirect().getReason(), null);
            }
            var to = reply.getRedirect();
            log.accept("step " + req.getCursor() + ": redirected to edge " + to.getEdgeId() + " at "
                    + to.getEndpoint() + " (epoch " + to.getEpoch() + "): " + to.getReason());
            stepEndpoint = to.getEndpoint();
            edgeId = to.getEdgeId();
            epoch = to.getEpoch();
        }
    }

    private interface Call<T> {
        CompletionStage<T> start();
    }

    /** The call, again after a pause while it fails with UNAVAILABLE, for up to {@code retryFor}. */
    private <T> T retrying(Call<T> call) {
        long deadline = System.nanoTime() + retryFor.toNanos();
        long pause = 50;
        while (true) {
            try {
                return call.start().toCompletableFuture().get(retryFor.toMillis() + 60_000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                StatusRuntimeException s = status(e.getCause());
                if (s == null || s.getStatus().getCode() != Status.Code.UNAVAILABLE
                        || System.nanoTime() > deadline) {
                    throw new Failed(e.getCause());
                }
                sleep(pause);
                pause = Math.min(1000, pause * 2);
            } catch (TimeoutException e) {
                throw new Failed(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Failed(e);
            }
        }
    }

    private static final class Failed extends RuntimeException {
        Failed(Throwable cause) {
            super(cause);
        }
    }

    /** Runs a call (retried while UNAVAILABLE); a failure is a DeviceException with the edge's status. */
    private <T> T call(String what, Call<T> call) {
        try {
            return retrying(call);
        } catch (Failed f) {
            Throwable c = f.getCause();
            StatusRuntimeException s = status(c);
            throw new DeviceException(what + " failed: " + (s != null ? s.getStatus().getCode() + ": "
                    + s.getStatus().getDescription() : String.valueOf(c)), c);
        }
    }

    static StatusRuntimeException status(Throwable t) {
        while (t != null && !(t instanceof StatusRuntimeException)) {
            t = t.getCause();
        }
        return (StatusRuntimeException) t;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Net prepare(Assignment a, ModelSpec spec) {
        String key = a.getModel() + "/" + a.getOffloaded() + "/" + a.getCut() + "/" + a.getLearningRate();
        if (model == null || !key.equals(modelKey)) {
            closeModel();
            SgdConfig sgd = new SgdConfig(a.getLearningRate(), SgdConfig.DEFAULT.momentum(), 0f);
            model = a.getOffloaded() ? new ClientHalf(spec, a.getCut(), a.getSeed(), sgd)
                    : new MonolithicModel(spec, a.getSeed(), sgd);
            modelKey = key;
        }
        return model;
    }

    /** The local samples this round trains on: all, or the share the round's selector picks (as in the cluster). */
    private int[] select(Assignment a, ModelSpec spec) {
        int[] all = IntStream.range(0, data.size()).toArray();
        DataSelector selector = DataSelectors.byName(a.getSelector().isEmpty() ? "none" : a.getSelector());
        if (selector == DataSelectors.NONE || a.getSelectionFraction() >= 1 || a.getSelectionFraction() <= 0) {
            return all;
        }
        long seed = a.getSeed() * 1_000_003L + a.getRound();
        if (!selector.needsScorer()) {
            return selector.select(data, all, a.getSelectionFraction(), seed, null);
        }
        byte[] whole = call("pull the whole model to score samples", () -> connection(home).pull(a, true));
        try (MonolithicModel global = new MonolithicModel(spec, a.getSeed(), SgdConfig.DEFAULT)) {
            global.loadWeights(ModelStateCodec.decode(whole).weights(), true);
            return selector.select(data, all, a.getSelectionFraction(), seed,
                    (d, idx) -> SampleLosses.of(List.of(global), d, idx, 500));
        }
    }

    /** A tensor as the wire carries it: raw little-endian float32 bytes and the shape. */
    static TensorData wire(Tensor t) {
        ByteBuffer buf = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(t.data());
        TensorData.Builder b = TensorData.newBuilder().setDtype(DType.FLOAT32)
                .setData(UnsafeByteOperations.unsafeWrap(buf.array()));
        for (int d : t.shape()) {
            b.addShape(d);
        }
        return b.build();
    }

    static Tensor fromWire(TensorData t) {
        if (t.getDtype() != DType.FLOAT32) {
            throw new DeviceException("the edge sent a " + t.getDtype() + " gradient; expected FLOAT32", null);
        }
        int[] shape = t.getShapeList().stream().mapToInt(Integer::intValue).toArray();
        float[] f = new float[t.getData().size() / 4];
        t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return new Tensor(shape, f);
    }

    private void closeModel() {
        if (model != null) {
            model.close();
            model = null;
            modelKey = "";
        }
    }

    @Override
    public void close() {
        closeSteps();
        closeModel();
        connections.values().forEach(EdgeConnection::close);
        connections.clear();
    }
}
