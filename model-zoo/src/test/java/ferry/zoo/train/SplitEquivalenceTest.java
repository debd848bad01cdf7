package ferry.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.TestData;
import ferry.zoo.data.Batch;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.tensor.TensorCodec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** k steps of split training equal k steps of monolithic training from the same weights and data order. */
class SplitEquivalenceTest {

    /** Max |w_split - w_mono| over all parameters after {@code steps} steps; momentum compared too. */
    static double[] trainBoth(ModelSpec spec, int cut, int steps, int batch) {
        int[] idx = new int[steps * batch];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        BatchPlan plan = new BatchPlan(idx, batch, 7);
        try (MonolithicModel mono = new MonolithicModel(spec, 42, SgdConfig.DEFAULT);
             ClientHalf client = new ClientHalf(spec, cut, 42, SgdConfig.DEFAULT);
             ServerHalf server = new ServerHalf(spec, cut, 42, SgdConfig.DEFAULT)) {
            double firstDiff = maxDiff(mono.state(), client.state(), server.state());
            assertEquals(0.0, firstDiff, "identical initial weights");
            List<Float> monoLoss = new ArrayList<>();
            List<Float> splitLoss = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
                Batch b = TestData.train().batch(plan.batch(s));
                monoLoss.add(mono.step(b).loss());
                // Activations and gradients cross as bytes, as they would on the wire.
                Tensor act = TensorCodec.decode(TensorCodec.encode(client.forward(b)));
                StepResult r = server.step(act, b.labels());
                client.backward(TensorCodec.decode(TensorCodec.encode(r.cutGradient())));
                splitLoss.add(r.loss());
            }
            ModelState m = mono.state();
            assertEquals(steps, m.cursor());
            assertEquals(steps, client.cursor());
            assertEquals(steps, server.cursor());
            assertTrue(Math.abs(monoLoss.get(0) - splitLoss.get(0)) < 1e-5, "same first loss");
            return new double[] {maxDiff(m, client.state(), server.state()), changed(spec, m)};
        }
    }

    static double maxDiff(ModelState mono, ModelState client, ModelState server) {
        List<NamedTensor> split = new ArrayList<>(client.weights());
        split.addAll(server.weights());
        List<NamedTensor> splitMom = new ArrayList<>(client.momentum());
        splitMom.addAll(server.momentum());
        assertEquals(mono.weights().size(), split.size());
        assertEquals(mono.momentum().size(), splitMom.size());
        double max = 0;
        for (int i = 0; i < split.size(); i++) {
            assertEquals(mono.weights().get(i).name(), split.get(i).name());
            max = Math.max(max, mono.weights().get(i).tensor().maxAbsDiff(split.get(i).tensor()));
        }
        for (int i = 0; i < splitMom.size(); i++) {
            max = Math.max(max, mono.momentum().get(i).tensor().maxAbsDiff(splitMom.get(i).tensor()));
        }
        return max;
    }

    /** How far training moved the trainable weights, so the comparison is not between two frozen models. */
    static double changed(ModelSpec spec, ModelState trained) {
        try (MonolithicModel fresh = new MonolithicModel(spec, 42, SgdConfig.DEFAULT)) {
            double max = 0;
            for (int i = 0; i < trained.weights().size(); i++) {
                NamedTensor t = trained.weights().get(i);
                if (t.name().endsWith(".weight")) {
                    max = Math.max(max, t.tensor().maxAbsDiff(fresh.state().weights().get(i).tensor()));
                }
            }
            return max;
        }
    }

    @Test
    void vgg5SplitAtDefaultCutMatchesMonolithic() {
        ModelSpec spec = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
        double[] r = trainBoth(spec, spec.defaultCut(), 10, 32);
        System.out.printf("vgg5 cut %d, 10 steps: max |split - mono| = %.3g (weights moved by up to %.3g)%n",
                spec.defaultCut(), r[0], r[1]);
        assertTrue(r[0] <= 1e-5, "max abs difference " + r[0]);
        assertTrue(r[1] > 1e-3, "training changed the weights");
    }

    @Test
    void everyVgg5CutMatchesMonolithic() {
        ModelSpec spec = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
        for (int cut = 1; cut < spec.units().size(); cut++) {
            double[] r = trainBoth(spec, cut, 3, 16);
            assertTrue(r[0] <= 1e-5, "cut " + cut + ": max abs difference " + r[0]);
        }
    }

    @Test
    void resnetSplitMatchesMonolithic() {
        ModelSpec spec = ModelSpecs.resnet8(new int[] {1, 28, 28}, 10);
        double[] r = trainBoth(spec, spec.defaultCut(), 4, 16);
        System.out.printf("resnet8 cut %d, 4 steps: max |split - mono| = %.3g%n", spec.defaultCut(), r[0]);
        assertTrue(r[0] <= 1e-5, "max abs difference " + r[0]);
        assertNotEquals(0.0, r[1]);
    }
}
