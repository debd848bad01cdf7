package ferry.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.Batch;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Bad tensors and labels get a clear error, nothing is trained on them, and the halves keep working. */
class HalfInputTest {
    static final ModelSpec VGG = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);

    @Test
    void serverRefusesBadActivationsAndLabelsWithoutChangingState() {
        try (ClientHalf c = new ClientHalf(VGG, 4, 1, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 1, SgdConfig.DEFAULT)) {
            Batch b = TestData.train().range(0, 8);
            Tensor act = c.forward(b);
            ModelState before = s.state();

            Tensor wrongShape = new Tensor(new int[] {8, 32, 7, 7}, new float[8 * 32 * 49]);
            String msg = assertThrows(MalformedTensorException.class, () -> s.step(wrongShape, b.labels()))
                    .getMessage();
            assertTrue(msg.contains("[8, 32, 7, 7]") && msg.contains("64, 7, 7"), msg);

            float[] nan = act.data().clone();
            nan[17] = Float.NaN;
            msg = assertThrows(MalformedTensorException.class,
                    () -> s.step(new Tensor(act.shape(), nan), b.labels())).getMessage();
            assertTrue(msg.contains("non-finite") && msg.contains("17"), msg);

            float[] inf = act.data().clone();
            inf[3] = Float.POSITIVE_INFINITY;
            assertThrows(MalformedTensorException.class, () -> s.step(new Tensor(act.shape(), inf), b.labels()));

            int[] badLabels = b.labels().clone();
            badLabels[2] = 10;
            msg = assertThrows(IllegalArgumentException.class, () -> s.step(act, badLabels)).getMessage();
            assertTrue(msg.contains("label 10"), msg);
            assertThrows(IllegalArgumentException.class, () -> s.step(act, new int[3]));

            assertTrue(s.state().bitEquals(before), "nothing was trained on bad input");
            StepResult ok = s.step(act, b.labels());
            assertEquals(1, s.cursor());
            c.backward(ok.cutGradient());
            assertEquals(1, c.cursor());
        }
    }

    @Test
    void clientKeepsItsForwardWhenTheGradientIsBad() {
        try (ClientHalf c = new ClientHalf(VGG, 4, 1, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 1, SgdConfig.DEFAULT)) {
            assertThrows(IllegalStateException.class,
                    () -> c.backward(new Tensor(new int[] {1, 64, 7, 7}, new float[64 * 49])));
            Batch b = TestData.train().range(0, 4);
            Tensor act = c.forward(b);
            Tensor grad = s.step(act, b.labels()).cutGradient();
            ModelState before = c.state();
            assertThrows(MalformedTensorException.class,
                    () -> c.backward(new Tensor(new int[] {4, 64, 7}, new float[4 * 64 * 7])));
            float[] nan = grad.data().clone();
            nan[0] = Float.NaN;
            assertThrows(MalformedTensorException.class, () -> c.backward(new Tensor(grad.shape(), nan)));
            assertTrue(c.awaitingGradient());
            assertTrue(c.state().bitEquals(before));
            c.backward(grad);
            assertEquals(1, c.cursor());
            assertTrue(!c.awaitingGradient());
        }
    }

    @Test
    void clientRefusesInputOfTheWrongShape() {
        try (ClientHalf c = new ClientHalf(VGG, 4, 1, SgdConfig.DEFAULT)) {
            Batch rgb = new Batch(new Tensor(new int[] {2, 3, 32, 32}, new float[2 * 3 * 32 * 32]), new int[2]);
            String msg = assertThrows(MalformedTensorException.class, () -> c.forward(rgb)).getMessage();
            assertTrue(msg.contains("1, 28, 28"), msg);
        }
    }

    @Test
    void invalidCutNamesTheValidOnes() {
        String msg = assertThrows(IllegalArgumentException.class, () -> new ClientHalf(VGG, 7, 1, SgdConfig.DEFAULT))
                .getMessage();
        assertTrue(msg.contains("1..6") && msg.contains("after pool2"), msg);
    }

    @Test
    void nativeMemoryStaysFlatAcrossSteps() {
        try (ClientHalf c = new ClientHalf(VGG, 4, 1, SgdConfig.DEFAULT);
             ServerHalf s = new ServerHalf(VGG, 4, 1, SgdConfig.DEFAULT)) {
            Batch b = TestData.train().range(0, 16);
            c.backward(s.step(c.forward(b), b.labels()).cutGradient());
            int clientArrays = c.manager.getManagedArrays().size();
            int serverArrays = s.manager.getManagedArrays().size();
            for (int i = 0; i < 20; i++) {
                c.backward(s.step(c.forward(b), b.labels()).cutGradient());
            }
            assertEquals(clientArrays, c.manager.getManagedArrays().size(), "client arrays leak");
            assertEquals(serverArrays, s.manager.getManagedArrays().size(), "server arrays leak");
        }
    }
}
