package ferry.zoo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.Batch;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.train.ParallelServerHalf.ParallelStepResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** EPSL's shared server half: φ = 0 is PSL, aggregated gradients are what the formula says, bad input is refused. */
class EpslParallelServerHalfTest {
    static final ModelSpec VGG = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
    static final int CUT = 4;
    static final int SAMPLE = 64 * 7 * 7;

    /** N client halves, one per device, closed together. */
    static final class Devices implements AutoCloseable {
        final List<ClientHalf> halves = new ArrayList<>();

        Devices(int n) {
            for (int i = 0; i < n; i++) {
                halves.add(new ClientHalf(VGG, CUT, 100 + i, SgdConfig.DEFAULT));
            }
        }

        List<Tensor> forward(List<Batch> batches) {
            List<Tensor> out = new ArrayList<>();
            for (int i = 0; i < halves.size(); i++) {
                out.add(halves.get(i).forward(batches.get(i)));
            }
            return out;
        }

        void backward(List<Tensor> grads) {
            for (int i = 0; i < halves.size(); i++) {
                halves.get(i).backward(grads.get(i));
            }
        }

        @Override
        public void close() {
            halves.forEach(ClientHalf::close);
        }
    }

    /** Device i's batch at step s: disjoint Fashion-MNIST ranges. */
    static List<Batch> batches(int step, int n, int b) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int start = (step * n + i) * b;
            out.add(TestData.train().range(start, start + b));
        }
        return out;
    }

    static List<int[]> labels(List<Batch> batches) {
        return batches.stream().map(Batch::labels).toList();
    }

    static Tensor concat(List<Tensor> ts) {
        int rows = ts.stream().mapToInt(t -> t.dim(0)).sum();
        float[] out = new float[ts.stream().mapToInt(t -> t.data().length).sum()];
        int at = 0;
        for (Tensor t : ts) {
            System.arraycopy(t.data(), 0, out, at, t.data().length);
            at += t.data().length;
        }
        int[] shape = ts.get(0).shape();
        shape[0] = rows;
        return new Tensor(shape, out);
    }

    static int[] concatLabels(List<int[]> ls) {
        return ls.stream().flatMapToInt(Arrays::stream).toArray();
    }

    /** Rows [from, from + count) of a batch tensor. */
    static Tensor rows(Tensor t, int from, int count) {
        int sample = t.data().length / t.dim(0);
        int[] shape = t.shape();
        shape[0] = count;
        return new Tensor(shape, Arrays.copyOfRange(t.data(), from * sample, (from + count) * sample));
    }

    static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.data()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double stateDiff(ModelState a, ModelState b) {
        double max = 0;
        for (int i = 0; i < a.weights().size(); i++) {
            assertEquals(a.weights().get(i).name(), b.weights().get(i).name());
            max = Math.max(max, a.weights().get(i).tensor().maxAbsDiff(b.weights().get(i).tensor()));
        }
        for (int i = 0; i < a.momentum().size(); i++) {
            max = Math.max(max, a.momentum().get(i).tensor().maxAbsDiff(b.momentum().get(i).tensor()));
        }
        return max;
    }

    @Test
    void phiZeroIsParallelSplitLearning() {
        int n = 3;
        int b = 8;
        int steps = 4;
        try (Devices epslDevices = new Devices(n);
             Devices pslDevices = new Devices(n);
             ParallelServerHalf epsl = new ParallelServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT);
             ServerHalf psl = new ServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT)) {
            assertEquals(0.0, stateDiff(epsl.state(), psl.state()), "same seed, same initial weights");
            double gradDiff = 0;
            double gradScale = 0;
            for (int s = 0; s < steps; s++) {
                List<Batch> data = batches(s, n, b);
                ParallelStepResult r = epsl.step(epslDevices.forward(data), labels(data), 0.0);
                StepResult p = psl.step(concat(pslDevices.forward(data)), concatLabels(labels(data)));
                assertEquals(p.loss(), r.loss(), 1e-5, "step " + s + " loss");
                assertEquals(p.correct(), r.correct());
                assertEquals(n * b, r.samples());
                assertNull(r.broadcastGradient());
                assertEquals((long) n * b, r.backpropVectors());
                assertEquals((long) n * b * SAMPLE, r.downlinkFloats());
                List<Tensor> pslGrads = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Tensor mine = r.clientGradients().get(i);
                    Tensor theirs = rows(p.cutGradient(), i * b, b);
                    assertTrue(mine.bitEquals(r.unicastGradients().get(i)), "with φ = 0 all is unicast");
                    gradDiff = Math.max(gradDiff, mine.maxAbsDiff(theirs));
                    gradScale = Math.max(gradScale, maxAbs(theirs));
                    pslGrads.add(theirs);
                }
                epslDevices.backward(r.clientGradients());
                pslDevices.backward(pslGrads);
            }
            double serverDiff = stateDiff(epsl.state(), psl.state());
            double deviceDiff = 0;
            for (int i = 0; i < n; i++) {
                deviceDiff = Math.max(deviceDiff,
                        stateDiff(epslDevices.halves.get(i).state(), pslDevices.halves.get(i).state()));
            }
            System.out.printf("EPSL φ=0 vs PSL, N=%d b=%d, %d steps: server weights+momentum max |diff| = %.3g,"
                    + " device weights %.3g, cut-layer gradients %.3g (largest gradient %.3g)%n",
                    n, b, steps, serverDiff, deviceDiff, gradDiff, gradScale);
            assertTrue(serverDiff <= 1e-5, "server max abs diff " + serverDiff);
            assertTrue(deviceDiff <= 1e-5, "device max abs diff " + deviceDiff);
            assertTrue(gradDiff <= 1e-6 * Math.max(1, gradScale), "cut-layer gradient diff " + gradDiff);
            // Stronger than the tolerance: with k = 0 the step runs PSL's ops on the same batch.
            assertEquals(0.0, serverDiff + deviceDiff + gradDiff, "φ = 0 is bit-identical to PSL");
            assertEquals(steps, epsl.cursor());
        }
    }

    @Test
    void aggregatedLastLayerGradientsAreTheSumOverDevicesOfSoftmaxMinusOneHot() {
        int n = 3;
        int b = 8;
        for (double phi : new double[] {1.0, 0.5}) {
            int k = ParallelServerHalf.aggregatedPositions(b, phi);
            List<Batch> data = batches(0, n, b);
            try (Devices devices = new Devices(n);
                 ParallelServerHalf epsl = new ParallelServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT);
                 ServerHalf psl = new ServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT)) {
                List<Tensor> acts = devices.forward(data);
                Tensor[] seen = new Tensor[2];
                ParallelStepResult r = epsl.step(acts, labels(data), phi, (logits, agg) -> {
                    seen[0] = logits;
                    seen[1] = agg;
                });
                int[] y = concatLabels(labels(data));
                float[] z = seen[0].data();
                assertArrayEquals(new int[] {n * b, 10}, seen[0].shape());

                // Plain Java, in double: G_j = Σ_i (softmax(z_ij) − onehot(y_ij)) / (N·b), and the mean loss.
                double[] expected = new double[k * 10];
                double loss = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < b; j++) {
                        int row = i * b + j;
                        double max = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < 10; c++) {
                            max = Math.max(max, z[row * 10 + c]);
                        }
                        double sum = 0;
                        for (int c = 0; c < 10; c++) {
                            sum += Math.exp(z[row * 10 + c] - max);
                        }
                        loss -= (z[row * 10 + y[row]] - max - Math.log(sum)) / (n * b);
                        if (j < k) {
                            for (int c = 0; c < 10; c++) {
                                double p = Math.exp(z[row * 10 + c] - max) / sum;
                                expected[j * 10 + c] += (p - (c == y[row] ? 1 : 0)) / (n * b);
                            }
                        }
                    }
                }
                assertArrayEquals(new int[] {k, 10}, seen[1].shape());
                double aggDiff = 0;
                for (int e = 0; e < expected.length; e++) {
                    aggDiff = Math.max(aggDiff, Math.abs(expected[e] - seen[1].data()[e]));
                }
                System.out.printf("φ=%.1f (k=%d): aggregated last-layer gradient vs plain Java max |diff| = %.3g,"
                        + " loss %.6f vs %.6f%n", phi, k, aggDiff, r.loss(), loss);
                assertTrue(aggDiff <= 1e-7, "aggregated gradient differs by " + aggDiff);
                assertEquals(loss, r.loss(), 1e-5);

                // The forward is PSL's: same loss and accuracy as a plain server half on the concatenation.
                StepResult p = psl.step(concat(acts), y);
                assertEquals(p.loss(), r.loss(), 1e-6);
                assertEquals(p.correct(), r.correct());

                assertEquals(k + (long) n * (b - k), r.backpropVectors());
                assertEquals((k + (long) n * (b - k)) * SAMPLE, r.downlinkFloats());
                assertEquals(k, r.aggregatedPositions());
                assertArrayEquals(new int[] {k, 64, 7, 7}, r.broadcastGradient().shape());
                for (int i = 0; i < n; i++) {
                    Tensor full = r.clientGradients().get(i);
                    assertArrayEquals(new int[] {b, 64, 7, 7}, full.shape());
                    assertArrayEquals(new int[] {b - k, 64, 7, 7}, r.unicastGradients().get(i).shape());
                    for (int e = 0; e < k * SAMPLE; e++) {
                        assertEquals(r.broadcastGradient().data()[e] / n, full.data()[e], 0f, "1/N of the broadcast");
                    }
                    assertTrue(rows(full, k, b - k).bitEquals(r.unicastGradients().get(i)));
                }
                assertTrue(maxAbs(r.broadcastGradient()) > 0, "something was back-propagated");
                devices.backward(r.clientGradients());
            }
        }
    }

    /**
     * Where aggregation loses nothing, EPSL must be PSL exactly: one device (x̄ = x, G = g), and devices that all
     * send the same batch (x̄ = x, G = N·g, and the 1/N scaling gives each device PSL's gradient back; BatchNorm
     * statistics of [x; x; x] are those of x). This checks the scaling and the restored running statistics.
     */
    @Test
    void whenAggregationIsExactEpslEqualsPsl() {
        int b = 8;
        Batch batch = TestData.train().range(200, 200 + b);
        for (int n : new int[] {1, 3}) {
            for (double phi : new double[] {0.5, 1.0}) {
                if (n > 1 && phi < 1) {
                    continue; // different positions of identical devices would still be normalised differently
                }
                try (ClientHalf device = new ClientHalf(VGG, CUT, 5, SgdConfig.DEFAULT);
                     ParallelServerHalf epsl = new ParallelServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT);
                     ServerHalf psl = new ServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT)) {
                    Tensor x = device.forward(batch);
                    List<Tensor> acts = new ArrayList<>();
                    List<int[]> ys = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        acts.add(x);
                        ys.add(batch.labels());
                    }
                    ParallelStepResult r = epsl.step(acts, ys, phi);
                    StepResult p = psl.step(concat(acts), concatLabels(ys));
                    double gradDiff = 0;
                    double scale = maxAbs(p.cutGradient());
                    for (int i = 0; i < n; i++) {
                        gradDiff = Math.max(gradDiff, r.clientGradients().get(i).maxAbsDiff(rows(p.cutGradient(),
                                i * b, b)));
                    }
                    double serverDiff = stateDiff(epsl.state(), psl.state());
                    System.out.printf("N=%d device(s) sending the same batch, φ=%.1f: EPSL vs PSL server max |diff| = %.3g,"
                            + " gradient %.3g (largest %.3g)%n", n, phi, serverDiff, gradDiff, scale);
                    assertTrue(gradDiff <= 1e-5 * scale, "gradient diff " + gradDiff);
                    assertTrue(serverDiff <= 1e-5, "server diff " + serverDiff);
                    assertEquals(b, r.backpropVectors(), "k + N(b−k) is b in both cases");
                }
            }
        }
    }

    @Test
    void badInputIsRefusedBeforeAnythingChanges() {
        int b = 4;
        try (Devices devices = new Devices(2);
             ParallelServerHalf epsl = new ParallelServerHalf(VGG, CUT, 1, SgdConfig.DEFAULT)) {
            List<Batch> data = batches(0, 2, b);
            List<Tensor> acts = devices.forward(data);
            List<int[]> ys = labels(data);
            ModelState before = epsl.state();

            String msg = assertThrows(IllegalArgumentException.class, () -> epsl.step(List.of(), List.of(), 0.5))
                    .getMessage();
            assertTrue(msg.contains("at least one device"), msg);

            Tensor shorter = rows(acts.get(1), 0, 3);
            msg = assertThrows(MalformedTensorException.class,
                    () -> epsl.step(List.of(acts.get(0), shorter), List.of(ys.get(0), new int[3]), 0.5)).getMessage();
            assertTrue(msg.contains("device 1") && msg.contains("batch of 3") && msg.contains("batch of 4"), msg);

            Tensor wrongShape = new Tensor(new int[] {b, 32, 7, 7}, new float[b * 32 * 49]);
            msg = assertThrows(MalformedTensorException.class,
                    () -> epsl.step(List.of(acts.get(0), wrongShape), ys, 0.5)).getMessage();
            assertTrue(msg.contains("device 1") && msg.contains("[4, 32, 7, 7]") && msg.contains("64, 7, 7"), msg);

            float[] nan = acts.get(0).data().clone();
            nan[5] = Float.NaN;
            msg = assertThrows(MalformedTensorException.class,
                    () -> epsl.step(List.of(new Tensor(acts.get(0).shape(), nan), acts.get(1)), ys, 0.5))
                    .getMessage();
            assertTrue(msg.contains("device 0") && msg.contains("non-finite") && msg.contains("5"), msg);

            for (double phi : new double[] {-0.1, 1.5, Double.NaN}) {
                msg = assertThrows(IllegalArgumentException.class, () -> epsl.step(acts, ys, phi)).getMessage();
                assertTrue(msg.contains("phi") && msg.contains("[0, 1]"), msg);
            }

            int[] bad = ys.get(1).clone();
            bad[2] = 10;
            msg = assertThrows(IllegalArgumentException.class,
                    () -> epsl.step(acts, List.of(ys.get(0), bad), 0.5)).getMessage();
            assertTrue(msg.contains("device 1") && msg.contains("label 10") && msg.contains("0..9"), msg);

            msg = assertThrows(IllegalArgumentException.class, () -> epsl.step(acts, List.of(ys.get(0)), 0.5))
                    .getMessage();
            assertTrue(msg.contains("1 label arrays for 2 devices"), msg);

            assertTrue(epsl.state().bitEquals(before), "nothing was trained on bad input");
            assertEquals(0, epsl.cursor());
            ParallelStepResult ok = epsl.step(acts, ys, 0.5);
            devices.backward(ok.clientGradients());
            assertEquals(1, epsl.cursor());
        }
    }

    @Test
    void trainingWithFullAggregationLearns() {
        int n = 3;
        int b = 16;
        int steps = 30;
        try (Devices devices = new Devices(n);
             ParallelServerHalf epsl = new ParallelServerHalf(VGG, CUT, 42, SgdConfig.DEFAULT)) {
            float[] losses = new float[steps];
            for (int s = 0; s < steps; s++) {
                List<Batch> data = batches(s, n, b);
                ParallelStepResult r = epsl.step(devices.forward(data), labels(data), 1.0);
                assertEquals(b, r.backpropVectors(), "φ = 1 back-propagates b vectors, not N·b");
                devices.backward(r.clientGradients());
                losses[s] = r.loss();
            }
            double first = mean(losses, 0, 5);
            double last = mean(losses, steps - 5, steps);
            System.out.printf("EPSL φ=1, N=%d b=%d: mean loss of steps 1-5 = %.3f, of steps %d-%d = %.3f%n",
                    n, b, first, steps - 4, steps, last);
            assertTrue(last < first - 0.3, "loss went from " + first + " to " + last);
        }
    }

    static double mean(float[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }

    @Test
    void nativeMemoryStaysFlatAcrossSteps() {
        int n = 2;
        int b = 8;
        try (Devices devices = new Devices(n);
             ParallelServerHalf epsl = new ParallelServerHalf(VGG, CUT, 1, SgdConfig.DEFAULT)) {
            List<Batch> data = batches(0, n, b);
            devices.backward(epsl.step(devices.forward(data), labels(data), 0.5).clientGradients());
            int arrays = epsl.manager.getManagedArrays().size();
            for (int i = 0; i < 15; i++) {
                double phi = i % 3 * 0.5; // 0, 0.5 and 1: every path through the step
                devices.backward(epsl.step(devices.forward(data), labels(data), phi).clientGradients());
            }
            assertEquals(arrays, epsl.manager.getManagedArrays().size(), "server arrays leak");
        }
    }
}
