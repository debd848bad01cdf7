package ferry.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelStateTest {
    static final ModelSpec VGG = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
    static final BatchPlan PLAN = new BatchPlan(range(400), 20, 3);

    static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    static void splitSteps(ClientHalf c, ServerHalf s, long fromCursor, int steps) {
        for (long k = fromCursor; k < fromCursor + steps; k++) {
            Batch b = TestData.train().batch(PLAN.batch(k));
            c.backward(s.step(c.forward(b), b.labels()).cutGradient());
        }
    }

    @Test
    void stateRoundTripsBitExactlyThroughBytes() {
        try (ClientHalf c = new ClientHalf(VGG, 4, 1, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 1, SgdConfig.DEFAULT)) {
            splitSteps(c, s, 0, 3);
            ModelState st = s.state();
            assertTrue(st.momentum().stream().anyMatch(m -> m.tensor().maxAbsDiff(zeros(m.tensor())) > 0),
                    "momentum is non-zero after training");
            byte[] bytes = ModelStateCodec.encode(st);
            ModelState back = ModelStateCodec.decode(bytes);
            assertTrue(st.bitEquals(back));
            assertEquals(3, back.cursor());
            // compact: floats plus a small header per tensor
            long header = bytes.length - st.byteSize();
            assertTrue(header < 64L * (st.weights().size() + st.momentum().size()) + 32, "header " + header);
        }
    }

    @Test
    void resumingFromSavedStateIsBitExact() {
        ModelState clientSaved;
        ModelState serverSaved;
        ModelState clientA;
        ModelState serverA;
        try (ClientHalf c = new ClientHalf(VGG, 4, 5, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 5, SgdConfig.DEFAULT)) {
            splitSteps(c, s, 0, 3);
            clientSaved = ModelStateCodec.decode(ModelStateCodec.encode(c.state()));
            serverSaved = ModelStateCodec.decode(ModelStateCodec.encode(s.state()));
            splitSteps(c, s, 3, 3);
            clientA = c.state();
            serverA = s.state();
        }
        // A different seed proves the load replaced everything.
        try (ClientHalf c = new ClientHalf(VGG, 4, 99, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 99, SgdConfig.DEFAULT)) {
            assertFalse(c.state().bitEquals(clientSaved));
            c.load(clientSaved);
            s.load(serverSaved);
            splitSteps(c, s, c.cursor(), 3);
            assertTrue(c.state().bitEquals(clientA), "client resumes bit-exactly");
            assertTrue(s.state().bitEquals(serverA), "server resumes bit-exactly");
            assertEquals(6, s.cursor());
        }
    }

    @Test
    void loadingAStateOfAnotherHalfIsRefusedAndChangesNothing() {
        try (ClientHalf c = new ClientHalf(VGG, 4, 1, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 1, SgdConfig.DEFAULT)) {
            ModelState before = c.state();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.load(s.state()));
            assertTrue(e.getMessage().contains("10 tensors given") && e.getMessage().contains("12"), e.getMessage());
            assertTrue(c.state().bitEquals(before));
            // same names, wrong shape
            List<NamedTensor> w = new ArrayList<>(before.weights());
            NamedTensor first = w.get(0);
            w.set(0, new NamedTensor(first.name(), new Tensor(new int[] {1}, new float[] {1f})));
            ModelState bad = new ModelState(w, before.momentum(), 0);
            MalformedTensorException m = assertThrows(MalformedTensorException.class, () -> c.load(bad));
            assertTrue(m.getMessage().contains(first.name()), m.getMessage());
            assertTrue(c.state().bitEquals(before));
        }
    }

    @Test
    void malformedStateBytesGiveClearErrors() {
        byte[] good;
        try (ClientHalf c = new ClientHalf(VGG, 2, 1, SgdConfig.DEFAULT)) {
            good = ModelStateCodec.encode(c.state());
        }
        assertThrows(MalformedTensorException.class, () -> ModelStateCodec.decode(new byte[0]));
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertTrue(assertThrows(MalformedTensorException.class, () -> ModelStateCodec.decode(magic))
                .getMessage().contains("magic"));
        byte[] version = good.clone();
        version[4] = 9;
        assertTrue(assertThrows(MalformedTensorException.class, () -> ModelStateCodec.decode(version))
                .getMessage().contains("version"));
        byte[] truncated = Arrays.copyOf(good, good.length - 5);
        assertThrows(MalformedTensorException.class, () -> ModelStateCodec.decode(truncated));
        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        assertTrue(assertThrows(MalformedTensorException.class, () -> ModelStateCodec.decode(trailing))
                .getMessage().contains("trailing"));
    }

    static Tensor zeros(Tensor like) {
        return new Tensor(like.shape(), new float[like.data().length]);
    }
}
