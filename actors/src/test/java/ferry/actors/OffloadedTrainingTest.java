package ferry.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.actors.edge.OffloadedTraining;
import ferry.actors.node.DatasetRegistry;
import ferry.actors.node.ModelBlobs;
import ferry.actors.session.Algorithms;
import ferry.actors.session.RoundInstruction;
import ferry.actors.session.SessionSpec;
import ferry.persistence.ModelRef;
import ferry.zoo.data.Batch;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.tensor.TensorCodec;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.SgdConfig;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edge side of split training: a real server half, real blobs, and every bad-input path. */
class OffloadedTrainingTest {
    @TempDir
    Path tmp;
    EntityTestSupport support;
    ActorTestKit kit;
    EventSourcedBehaviorTestKit<OffloadedTraining.Command, OffloadedTraining.Event, OffloadedTraining.State> ot;
    SessionSpec spec = new SessionSpec("splitfed", "vgg5", DatasetRegistry.FASHION_MNIST, List.of("d"), 1, 4, 8, 1,
            0.01f, 3, 0, 60);
    ModelRef global;
    List<NamedTensor> globalWeights;

    @BeforeEach
    void start() {
        support = new EntityTestSupport(tmp);
        kit = ActorTestKit.create(support.config);
        ot = EventSourcedBehaviorTestKit.create(kit.system(),
                OffloadedTraining.create(OffloadedTraining.entityId("s", "d", "edge-1"), support.services));
        try (MonolithicModel m = new MonolithicModel(spec.modelSpec(), 3, SgdConfig.DEFAULT)) {
            globalWeights = m.weights();
            global = ModelBlobs.putWeights(support.services.blobs(), globalWeights);
        }
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
        support.close();
    }

    RoundInstruction round(int r, int attempt) {
        return Algorithms.SPLITFED.instruct("s", spec, "d", r, attempt, global);
    }

    Batch batch(int k) {
        return EntityTestSupport.DATASETS.train(DatasetRegistry.FASHION_MNIST).range(k * 8, k * 8 + 8);
    }

    OffloadedTraining.StepReply step(int r, int attempt, long cursor, byte[] act, int[] labels) {
        return step(r, attempt, 0, cursor, act, labels);
    }

    OffloadedTraining.StepReply step(int r, int attempt, long epoch, long cursor, byte[] act, int[] labels) {
        return ot.<OffloadedTraining.StepReply>runCommand(
                x -> new OffloadedTraining.Step(r, attempt, epoch, cursor, act, labels, x)).reply();
    }

    @Test
    void trainsARoundAndStoresTheServerHalf() {
        var begun = ot.<StatusReply<Done>>runCommand(x -> new OffloadedTraining.BeginRound(round(1, 1), "edge-1", 0, x));
        assertTrue(begun.reply().isSuccess());
        assertInstanceOf(OffloadedTraining.RoundBegun.class, begun.event());
        try (ClientHalf client = new ClientHalf(spec.modelSpec(), 4, 3, SgdConfig.DEFAULT)) {
            client.loadWeights(ModelBlobs.select(globalWeights, client.parameterNames()), true);
            for (int k = 0; k < 3; k++) {
                Batch b = batch(k);
                var reply = step(1, 1, k, TensorCodec.encode(client.forward(b)), b.labels());
                assertTrue(reply.ok(), reply.error());
                client.backward(TensorCodec.decode(reply.gradient()));
            }
        }
        var fin = ot.<StatusReply<ModelRef>>runCommand(x -> new OffloadedTraining.FinishRound(1, 1, 0, x));
        ModelRef server = fin.reply().getValue();
        assertEquals(new OffloadedTraining.RoundFinished(1, 1, 3, server), fin.event());
        List<NamedTensor> trained = ModelBlobs.getWeights(support.services.blobs(), server);
        List<NamedTensor> before = ModelBlobs.select(globalWeights, trained.stream().map(NamedTensor::name).toList());
        assertEquals(before.size(), trained.size());
        assertTrue(trained.get(0).tensor().maxAbsDiff(before.get(0).tensor()) > 0, "the server half trained");
        assertEquals(1, fin.state().roundsFinished());
        assertFalse(fin.state().inRound());
    }

    @Test
    void badStepsGetErrorsAndTrainNothing() {
        ot.<StatusReply<Done>>runCommand(x -> new OffloadedTraining.BeginRound(round(1, 1), "edge-1", 0, x));
        Batch b = batch(0);
        byte[] act;
        try (ClientHalf client = new ClientHalf(spec.modelSpec(), 4, 3, SgdConfig.DEFAULT)) {
            act = TensorCodec.encode(client.forward(b));
        }
        // malformed bytes, wrong shape, NaN, bad labels, wrong round, out of order
        assertTrue(step(1, 1, 0, new byte[] {3, 1}, b.labels()).error().contains("truncated"));
        byte[] wrongShape = TensorCodec.encode(new Tensor(new int[] {8, 32, 7, 7}, new float[8 * 32 * 49]));
        assertTrue(step(1, 1, 0, wrongShape, b.labels()).error().contains("shape"));
        Tensor good = TensorCodec.decode(act);
        float[] nan = good.data().clone();
        nan[5] = Float.NaN;
        assertTrue(step(1, 1, 0, TensorCodec.encode(new Tensor(good.shape(), nan)), b.labels()).error()
                .contains("non-finite"));
        assertTrue(step(1, 1, 0, act, new int[] {1, 2}).error().contains("labels"));
        assertTrue(step(2, 1, 0, act, b.labels()).error().contains("no round 2"));
        assertTrue(step(1, 2, 0, act, b.labels()).error().contains("attempt"));
        assertTrue(step(1, 1, 5, act, b.labels()).error().contains("out of order"));
        // after all that, the server half is exactly the global one and a good step still works
        var fin0 = ot.<StatusReply<ModelRef>>runCommand(x -> new OffloadedTraining.FinishRound(1, 1, 0, x));
        assertEquals(0, ((OffloadedTraining.RoundFinished) fin0.event()).steps());
        List<NamedTensor> untouched = ModelBlobs.getWeights(support.services.blobs(), fin0.reply().getValue());
        List<NamedTensor> before = ModelBlobs.select(globalWeights,
                untouched.stream().map(NamedTensor::name).toList());
        for (int i = 0; i < untouched.size(); i++) {
            assertTrue(untouched.get(i).tensor().bitEquals(before.get(i).tensor()), untouched.get(i).name());
        }
        ot.<StatusReply<Done>>runCommand(x -> new OffloadedTraining.BeginRound(round(2, 1), "edge-1", 0, x));
        assertTrue(step(2, 1, 0, act, b.labels()).ok());
        assertFalse(step(2, 1, 0, act, b.labels()).ok(), "a replayed step is refused");
    }

    /**
     * Fencing: the device re-established its half here under a newer epoch (after a failover or rebuild); a step
     * of the old epoch that arrives late (a partitioned or frozen path delivering it now) is refused and trains
     * nothing, even though its cursor is exactly the one the half expects, so the replay that follows is trained
     * once and gives the same gradients as the first time.
     */
    @Test
    void aLateStepOfAnOlderEpochIsFencedOff() {
        assertTrue(ot.<StatusReply<Done>>runCommand(x -> new OffloadedTraining.BeginRound(round(1, 1), "edge-1", 1,
                x)).reply().isSuccess());
        byte[][] acts = new byte[3][];
        byte[][] grads = new byte[3][];
        try (ClientHalf client = new ClientHalf(spec.modelSpec(), 4, 3, SgdConfig.DEFAULT)) {
            client.loadWeights(ModelBlobs.select(globalWeights, client.parameterNames()), true);
            for (int k = 0; k < 3; k++) {
                acts[k] = TensorCodec.encode(client.forward(batch(k)));
                var reply = step(1, 1, 1, k, acts[k], batch(k).labels());
                assertTrue(reply.ok(), reply.error());
                assertEquals(1, reply.epoch());
                grads[k] = reply.gradient();
                client.backward(TensorCodec.decode(reply.gradient()));
            }
        }
        // Re-established at epoch 2 from the round's start (no checkpoint yet): the half expects step 0 again.
        var took = ot.<StatusReply<OffloadedTraining.Resume>>runCommand(x -> new OffloadedTraining.TakeOver(
                round(1, 1), "edge-1", 2, new OffloadedTraining.Handoff(null, null, -1, 0, 0, 0), null, x));
        assertTrue(took.reply().isSuccess());
        assertEquals(2, took.state().epoch());

        var late = step(1, 1, 1, 0, acts[0], batch(0).labels());
        assertFalse(late.ok());
        assertTrue(late.error().startsWith("fenced"), late.error());
        assertTrue(step(1, 1, 3, 0, acts[0], batch(0).labels()).error().contains("establish it again"),
                "an epoch never established here is refused too");
        var oldBegin = ot.<StatusReply<Done>>runCommand(x -> new OffloadedTraining.BeginRound(round(1, 2), "edge-1",
                1, x));
        assertTrue(oldBegin.reply().getError().getMessage().startsWith("fenced"));
        assertTrue(oldBegin.hasNoEvents());
        assertTrue(ot.<StatusReply<OffloadedTraining.Handover>>runCommand(x -> new OffloadedTraining.HandOff(1, 1, 1,
                "edge-2", x)).reply().getError().getMessage().startsWith("fenced"));

        for (int k = 0; k < 3; k++) { // the replay: trained once, bit for bit as the first time
            var reply = step(1, 1, 2, k, acts[k], batch(k).labels());
            assertTrue(reply.ok(), reply.error());
            assertTrue(java.util.Arrays.equals(grads[k], reply.gradient()), "step " + k + " as first trained");
        }
        ot.restart(); // the fence is durable
        assertEquals(2, ot.getState().epoch());
        assertTrue(step(1, 1, 1, 3, acts[0], batch(0).labels()).error().startsWith("fenced"));
    }

    @Test
    void anUnknownModelRefIsRefusedClearly() {
        ModelRef missing = new ModelRef("0".repeat(64), 10);
        RoundInstruction ins = Algorithms.SPLITFED.instruct("s", spec, "d", 1, 1, missing);
        var r = ot.<StatusReply<Done>>runCommand(x -> new OffloadedTraining.BeginRound(ins, "edge-1", 0, x));
        assertTrue(r.reply().isError());
        assertTrue(r.reply().getError().getMessage().contains("round 1"), r.reply().getError().getMessage());
        assertTrue(r.hasNoEvents());
        assertTrue(step(1, 1, 0, new byte[0], new int[0]).error().contains("no round 1"));
    }
}
