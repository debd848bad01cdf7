package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import ferry.actors.device.Device;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.FerryNode;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import ferry.device.DeviceTrainer;
import ferry.device.EdgeConnection;
import ferry.grpc.EdgeGrpcServer;
import ferry.grpc.proto.Assignment;
import ferry.grpc.proto.DType;
import ferry.grpc.proto.PushHeader;
import ferry.grpc.proto.StepReply;
import ferry.grpc.proto.StepRequest;
import ferry.grpc.proto.TensorData;
import ferry.persistence.FerryConfig.Journal;
import ferry.persistence.ModelRef;
import ferry.persistence.TestBackend;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input never hurts the edge: hundreds of seeded, generated malformed requests (wrong token, unknown device
 * or session, wrong dtype, shape or length, NaN and Inf, labels out of range, oversize payloads, stale attempts
 * and epochs, replayed and out-of-order steps, broken pushes) each get the gRPC status they should, with a
 * message, while two well-behaved devices train beside them: the round ends with exactly the model an
 * undisturbed run of the same devices gives.
 */
class MalformedInputTest {
    @TempDir
    static Path tmp;
    static TestBackend backend;
    static FerryNode node;
    static EdgeGrpcServer.Running edge;
    static Path certs;
    static final String T1 = "phone-1-token-0123456789";
    static final String T2 = "phone-2-token-0123456789";
    static final int BATCH = 40;
    static final int[] CUT = {64, 7, 7};
    /** The edge's payload limit here: one step at batch 40 is 501,760 bytes. */
    static final int LIMIT = 1 << 20;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.open(Journal.H2, tmp);
        node = FerryNode.start("bad", GrpcTestSupport.nodeConfig(backend,
                "ferry.hierarchical-aggregation = off\nferry.grpc.max-payload-bytes = " + LIMIT),
                EntityTestSupport.DATASETS);
        certs = GrpcTestSupport.certs(tmp.resolve("certs"));
        edge = GrpcTestSupport.serve(node, certs, List.of("edge-1"));
        node.hostEdge("edge-1", 4, edge.endpoint(), GrpcTestSupport.T).toCompletableFuture().get(60, TimeUnit.SECONDS);
        GrpcTestSupport.registerRemote(node, "phone-1", GrpcTestSupport.part(2, 0, 800), tmp.resolve("phone-1"), T1,
                "edge-1");
        GrpcTestSupport.registerRemote(node, "phone-2", GrpcTestSupport.part(2, 1, 800), tmp.resolve("phone-2"), T2,
                "edge-1");
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
        backend.close();
    }

    static SessionSpec spec() {
        return new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("phone-1", "phone-2"), 1, 4,
                BATCH, 1, 0.05f, 1, 500, 120);
    }

    DeviceTrainer trainer(String id, String token) {
        return GrpcTestSupport.trainer(node, edge.endpoint(), id, token, certs, tmp.resolve(id));
    }

    EdgeConnection connect(String id, String token) {
        return new EdgeConnection(node.system(), edge.endpoint(), new EdgeConnection.Credentials(id, token,
                certs.resolve("ca.pem")));
    }

    /** One request and the answer it must get: a status code, or (code OK) a redirect. */
    record Case(String kind, Status.Code expected, Supplier<CompletionStage<?>> call) {}

    record Answer(String kind, Status.Code expected, Status.Code got, String message) {
        boolean right() {
            return expected == got && message != null && !message.isBlank();
        }
    }

    static Answer ask(Case c) {
        try {
            Object r = c.call().get().toCompletableFuture().get(60, TimeUnit.SECONDS);
            String msg = r instanceof StepReply s && s.hasRedirect() ? s.getRedirect().getReason() : "answered";
            return new Answer(c.kind(), c.expected(), Status.Code.OK, msg);
        } catch (ExecutionException e) {
            StatusRuntimeException s = status(e.getCause());
            return new Answer(c.kind(), c.expected(), s == null ? Status.Code.UNKNOWN : s.getStatus().getCode(),
                    s == null ? String.valueOf(e.getCause()) : s.getStatus().getDescription());
        } catch (Exception e) {
            return new Answer(c.kind(), c.expected(), Status.Code.UNKNOWN, e.toString());
        }
    }

    static StatusRuntimeException status(Throwable t) {
        while (t != null && !(t instanceof StatusRuntimeException)) {
            t = t.getCause();
        }
        return (StatusRuntimeException) t;
    }

    static TensorData floats(int[] shape, int count, Random rnd) {
        ByteBuffer b = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            b.putFloat((float) rnd.nextGaussian());
        }
        TensorData.Builder t = TensorData.newBuilder().setDtype(DType.FLOAT32).setData(ByteString.copyFrom(b.array()));
        for (int d : shape) {
            t.addShape(d);
        }
        return t.build();
    }

    static int count(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    static List<Integer> labels(int n, Random rnd) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(rnd.nextInt(10));
        }
        return l;
    }

    /** A well-formed step of the round (only the cursor or epoch may be off), for the device {@code id}. */
    static StepRequest.Builder step(Assignment a, String id, long cursor, long epoch, Random rnd) {
        int[] shape = {BATCH, CUT[0], CUT[1], CUT[2]};
        return StepRequest.newBuilder().setDeviceId(id).setSessionId(a.getSessionId()).setRound(a.getRound())
                .setAttempt(a.getAttempt()).setEpoch(epoch).setCursor(cursor)
                .setActivations(floats(shape, count(shape), rnd)).addAllLabels(labels(BATCH, rnd));
    }

    /**
     * The generated attack on phone-1's round, made while phone-1 is at step {@code cursor}: every request has a
     * payload or a header the edge must refuse before anything reaches the device's server half.
     */
    /**
     * A step as a single call, or (viaStream) on a step stream of its own, as devices step: a refusal must end the
     * stream with the same status and message a call gets.
     */
    static CompletionStage<?> send(EdgeConnection c, StepRequest r, boolean parallel, boolean viaStream) {
        if (!viaStream || parallel) {
            return c.step(r, parallel);
        }
        EdgeConnection.StepStream s = c.openSteps();
        return s.step(r).whenComplete((x, e) -> s.close());
    }

    List<Case> attack(Assignment a, long cursor, long epoch, EdgeConnection good, EdgeConnection wrongToken,
                      EdgeConnection noToken, EdgeConnection ghost, EdgeConnection badId, int n, long seed) {
        Random rnd = new Random(seed);
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int kind = rnd.nextInt(20);
            long c = rnd.nextInt(12);
            boolean viaStream = rnd.nextBoolean();
            StepRequest.Builder s = step(a, "phone-1", c, epoch, rnd);
            int[] shape = {BATCH, CUT[0], CUT[1], CUT[2]};
            switch (kind) {
                case 0 -> out.add(new Case("wrong token", Status.Code.UNAUTHENTICATED,
                        () -> send(wrongToken, s.build(), false, viaStream)));
                case 1 -> out.add(new Case("no token", Status.Code.UNAUTHENTICATED,
                        () -> send(noToken, s.build(), false, viaStream)));
                case 2 -> out.add(new Case("unknown device", Status.Code.NOT_FOUND,
                        () -> send(ghost, s.setDeviceId("ghost-" + rnd.nextInt(1000)).build(), false, viaStream)));
                case 3 -> out.add(new Case("unknown session", Status.Code.NOT_FOUND,
                        () -> send(good, s.setSessionId("no-such-session-" + rnd.nextInt(100)).build(), false, viaStream)));
                case 4 -> out.add(new Case("stale or future attempt", Status.Code.FAILED_PRECONDITION,
                        () -> send(good, s.setAttempt(a.getAttempt() + 1 + rnd.nextInt(5)).build(), false, viaStream)));
                case 5 -> {
                    DType d = List.of(DType.FLOAT16, DType.BFLOAT16, DType.INT8, DType.DTYPE_UNSPECIFIED)
                            .get(rnd.nextInt(4));
                    out.add(new Case("dtype " + d, Status.Code.INVALID_ARGUMENT, () -> send(good, s.setActivations(
                            s.getActivations().toBuilder().setDtype(d)).build(), false, viaStream)));
                }
                case 6 -> {
                    int[] flat = {BATCH, CUT[0] * CUT[1] * CUT[2]};
                    out.add(new Case("wrong rank", Status.Code.INVALID_ARGUMENT, () -> send(good, s.setActivations(
                            floats(flat, count(flat), rnd)).build(), false, viaStream)));
                }
                case 7 -> {
                    int[] other = {BATCH, CUT[0], 5 + rnd.nextInt(2), 5};
                    out.add(new Case("wrong cut-layer shape", Status.Code.INVALID_ARGUMENT, () -> send(good, 
                            s.setActivations(floats(other, count(other), rnd)).build(), false, viaStream)));
                }
                case 8 -> {
                    int[] big = {BATCH + 1 + rnd.nextInt(3), CUT[0], CUT[1], CUT[2]};
                    out.add(new Case("batch above the round's", Status.Code.INVALID_ARGUMENT, () -> send(good, 
                            s.setActivations(floats(big, count(big), rnd)).addAllLabels(labels(big[0] - BATCH, rnd))
                                    .build(), false, viaStream)));
                }
                case 9 -> out.add(new Case("bytes do not fit the shape", Status.Code.INVALID_ARGUMENT,
                        () -> send(good, s.setActivations(floats(shape, count(shape) - 1 - rnd.nextInt(100), rnd)
                                .toBuilder().clearShape().addAllShape(List.of(BATCH, CUT[0], CUT[1], CUT[2])))
                                .build(), false, viaStream)));
                case 10 -> {
                    ByteBuffer b = ByteBuffer.wrap(s.getActivations().getData().toByteArray())
                            .order(ByteOrder.LITTLE_ENDIAN);
                    float bad = List.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY).get(rnd.nextInt(3));
                    b.putFloat(4 * rnd.nextInt(count(shape)), bad);
                    out.add(new Case("non-finite " + bad, Status.Code.INVALID_ARGUMENT, () -> send(good, 
                            s.setActivations(s.getActivations().toBuilder().setData(ByteString.copyFrom(b.array())))
                                    .build(), false, viaStream)));
                }
                case 11 -> {
                    int at = rnd.nextInt(BATCH);
                    int label = rnd.nextBoolean() ? 10 + rnd.nextInt(1000) : -1 - rnd.nextInt(1000);
                    out.add(new Case("label out of range", Status.Code.INVALID_ARGUMENT,
                            () -> send(good, s.setLabels(at, label).build(), false, viaStream)));
                }
                case 12 -> out.add(new Case("too few labels", Status.Code.INVALID_ARGUMENT,
                        () -> send(good, s.clearLabels().addAllLabels(labels(rnd.nextInt(BATCH), rnd)).build(),
                                false, viaStream)));
                case 13 -> {
                    if (rnd.nextInt(4) == 0) { // oversize payloads are big: a few of them
                        int[] huge = {BATCH * 3, CUT[0], CUT[1], CUT[2]};
                        out.add(new Case("oversize payload", Status.Code.RESOURCE_EXHAUSTED, () -> send(good, 
                                s.setActivations(floats(huge, count(huge), rnd)).build(), false, viaStream)));
                    } else {
                        out.add(new Case("negative dimension", Status.Code.INVALID_ARGUMENT, () -> send(good, 
                                s.setActivations(s.getActivations().toBuilder().setShape(1, -64)).build(), false, viaStream)));
                    }
                }
                case 14 -> out.add(new Case("EPSL step in a split round", Status.Code.FAILED_PRECONDITION,
                        () -> send(good, s.build(), true, viaStream)));
                case 15 -> out.add(new Case("malformed device id", Status.Code.INVALID_ARGUMENT,
                        () -> send(badId, s.setDeviceId("a b/" + rnd.nextInt(100)).build(), false, viaStream)));
                case 16 -> {
                    byte[] junk = new byte[1 + rnd.nextInt(5000)];
                    rnd.nextBytes(junk);
                    out.add(new Case("pushed garbage", Status.Code.INVALID_ARGUMENT, () -> good.push(
                            header(a, "phone-1"), junk)));
                }
                case 17 -> {
                    byte[] junk = new byte[100];
                    out.add(new Case("push for an unknown session", Status.Code.NOT_FOUND, () -> good.push(
                            header(a, "phone-1").toBuilder().setSessionId("elsewhere").build(), junk)));
                }
                case 18 -> out.add(new Case("epoch ahead", Status.Code.FAILED_PRECONDITION,
                        () -> send(good, s.setEpoch(epoch + 1 + rnd.nextInt(9)).setActivations(s.getActivations()
                                .toBuilder().setDtype(DType.INT8)).build(), false, viaStream)));
                default -> out.add(new Case("pull for an unknown session", Status.Code.NOT_FOUND, () -> good.pull(
                        a.toBuilder().setSessionId("elsewhere-" + rnd.nextInt(10)).build(), false)));
            }
        }
        return out;
    }

    static PushHeader header(Assignment a, String id) {
        return PushHeader.newBuilder().setDeviceId(id).setSessionId(a.getSessionId()).setRound(a.getRound())
                .setAttempt(a.getAttempt()).setBatches(10).setSamples(400).setLoss(1).setCorrect(1).build();
    }

    @Test
    void hundredsOfMalformedRequestsAreRefusedAndTrainingBesideThemIsUnaffected() throws Exception {
        ModelRef calm;
        try (DeviceTrainer p1 = trainer("phone-1", T1); DeviceTrainer p2 = trainer("phone-2", T2)) {
            var r1 = GrpcTestSupport.train(p1, 1);
            var r2 = GrpcTestSupport.train(p2, 1);
            calm = RemoteDeviceTest.runOn(node, "calm", spec(), CompletableFuture.anyOf(r1, r2)).global();
            r1.get(60, TimeUnit.SECONDS);
            r2.get(60, TimeUnit.SECONDS);
        }
        List<Answer> answers = java.util.Collections.synchronizedList(new ArrayList<>());
        try (DeviceTrainer p1 = trainer("phone-1", T1); DeviceTrainer p2 = trainer("phone-2", T2);
             EdgeConnection good = connect("phone-1", T1); EdgeConnection bad2 = connect("phone-2", T2);
             EdgeConnection wrong = connect("phone-1", "not-the-token-of-phone-1");
             EdgeConnection none = connect("phone-1", ""); EdgeConnection ghost = connect("ghost", T1);
             EdgeConnection badId = connect("a b", T1)) {
            // phone-1 pauses at step 5 while the generated attack on its round runs, then trains on
            p1.onStep((a, cursor, epoch) -> {
                if (cursor == 5) {
                    for (Case c : attack(a, cursor, epoch, good, wrong, none, ghost, badId, 400, 42)) {
                        answers.add(ask(c));
                    }
                }
            });
            // phone-2 replays its own steps and sends them out of order while it trains
            Random rnd = new Random(7);
            p2.onStep((a, cursor, epoch) -> {
                if (cursor >= 1) {
                    answers.add(ask(new Case("replayed step", Status.Code.FAILED_PRECONDITION,
                            () -> bad2.step(step(a, "phone-2", cursor - 1, epoch, rnd).build(), false))));
                    answers.add(ask(new Case("the last step again, other data", Status.Code.FAILED_PRECONDITION,
                            () -> bad2.step(step(a, "phone-2", cursor, epoch, rnd).build(), false))));
                    answers.add(ask(new Case("a step ahead", Status.Code.FAILED_PRECONDITION,
                            () -> bad2.step(step(a, "phone-2", cursor + 2 + rnd.nextInt(5), epoch, rnd).build(),
                                    false))));
                }
                if (cursor == 2) {
                    Answer stale = ask(new Case("stale epoch: a redirect to where the device is", Status.Code.OK,
                            () -> bad2.step(step(a, "phone-2", cursor + 1, epoch - 1, rnd).build(), false)));
                    answers.add(stale);
                }
            });
            var r1 = GrpcTestSupport.train(p1, 1);
            var r2 = GrpcTestSupport.train(p2, 1);
            ModelRef busy = RemoteDeviceTest.runOn(node, "busy", spec(), CompletableFuture.anyOf(r1, r2)).global();
            r1.get(60, TimeUnit.SECONDS);
            r2.get(60, TimeUnit.SECONDS);

            List<Answer> wrongAnswers = answers.stream().filter(x -> !x.right()).toList();
            System.out.println(answers.size() + " malformed requests; samples of the answers:");
            answers.stream().collect(java.util.stream.Collectors.toMap(Answer::kind, x -> x, (x, y) -> x))
                    .values().forEach(x -> System.out.println("  " + x.kind() + " -> " + x.got() + ": " + x.message()));
            assertTrue(answers.size() >= 400 + 3 * 9, "every generated request was sent: " + answers.size());
            assertTrue(wrongAnswers.isEmpty(), wrongAnswers.size() + " wrong answers, e.g. " + wrongAnswers.stream()
                    .limit(5).toList());
            assertTrue(answers.stream().map(Answer::expected).distinct().count() >= 6, "every kind of status");
            assertEquals(calm, busy, "the well-behaved devices trained exactly what they train undisturbed");
            List<Long> batches = MigrationTest.events(node, "Device|phone-1").stream()
                    .filter(e -> e instanceof Device.BatchesDone b && b.sessionId().equals("busy"))
                    .map(e -> ((Device.BatchesDone) e).to() - ((Device.BatchesDone) e).from()).toList();
            assertEquals(List.of(10L), batches, "phone-1's 10 batches, each once");
        }
    }

    @Test
    void everyCallNeedsTheDevicesOwnToken() throws Exception {
        Assignment none = Assignment.newBuilder().setSessionId("s").setRound(1).setAttempt(1).build();
        try (EdgeConnection wrong = connect("phone-1", T2); EdgeConnection empty = connect("phone-1", "")) {
            for (EdgeConnection c : List.of(wrong, empty)) {
                List<Case> calls = List.of(
                        new Case("attach", Status.Code.UNAUTHENTICATED, () -> c.attach("edge-1")),
                        new Case("detach", Status.Code.UNAUTHENTICATED, c::detach),
                        new Case("next round", Status.Code.UNAUTHENTICATED, () -> c.nextRound(10)),
                        new Case("pull", Status.Code.UNAUTHENTICATED, () -> c.pull(none, false)),
                        new Case("step", Status.Code.UNAUTHENTICATED, () -> c.step(StepRequest.newBuilder()
                                .setDeviceId("phone-1").build(), false)),
                        new Case("push", Status.Code.UNAUTHENTICATED, () -> c.push(header(none, "phone-1"),
                                new byte[10])));
                for (Case k : calls) {
                    Answer a = ask(k);
                    assertTrue(a.right(), a.toString());
                    assertFalse(a.message().contains(T1), "the message never echoes a token");
                }
            }
        }
        // the device itself is still attached where it was: nothing was done on a refused call
        Device.State s = ferry.ops.Asks.<Device.Command, Device.State>ask(node.services().device("phone-1"),
                Device.Get::new, GrpcTestSupport.T, node.system().scheduler()).toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        assertEquals("edge-1", s.edgeId());
    }
}
