package ferry.zoo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class FedAvgTest {

    @Test
    void averagingIdenticalModelsReturnsThemUnchanged() {
        List<NamedTensor> w;
        try (MonolithicModel m = new MonolithicModel(ModelSpecs.vgg5(new int[] {1, 28, 28}, 10), 3,
                SgdConfig.DEFAULT)) {
            w = m.weights();
        }
        List<NamedTensor> avg = FedAvg.average(List.of(
                new FedAvg.Contribution(w, 3), new FedAvg.Contribution(w, 7), new FedAvg.Contribution(w, 11)));
        assertEquals(w.size(), avg.size());
        for (int i = 0; i < w.size(); i++) {
            assertEquals(w.get(i).name(), avg.get(i).name());
            assertTrue(w.get(i).tensor().bitEquals(avg.get(i).tensor()), w.get(i).name());
        }
    }

    @Test
    void weightsBySampleCount() {
        List<NamedTensor> a = List.of(new NamedTensor("p", new Tensor(new int[] {2}, new float[] {1f, -2f})));
        List<NamedTensor> b = List.of(new NamedTensor("p", new Tensor(new int[] {2}, new float[] {4f, 2f})));
        List<NamedTensor> avg = FedAvg.average(List.of(new FedAvg.Contribution(a, 1), new FedAvg.Contribution(b, 3)));
        assertEquals(3.25f, avg.get(0).tensor().data()[0]);
        assertEquals(1.0f, avg.get(0).tensor().data()[1]);
    }

    @Test
    void refusesMismatchedSetsAndEmptyInput() {
        List<NamedTensor> a = List.of(new NamedTensor("p", new Tensor(new int[] {2}, new float[2])));
        List<NamedTensor> b = List.of(new NamedTensor("p", new Tensor(new int[] {3}, new float[3])));
        List<NamedTensor> c = List.of(new NamedTensor("q", new Tensor(new int[] {2}, new float[2])));
        assertThrows(IllegalArgumentException.class,
                () -> FedAvg.average(List.of(new FedAvg.Contribution(a, 1), new FedAvg.Contribution(b, 1))));
        assertThrows(IllegalArgumentException.class,
                () -> FedAvg.average(List.of(new FedAvg.Contribution(a, 1), new FedAvg.Contribution(c, 1))));
        assertThrows(IllegalArgumentException.class, () -> FedAvg.average(List.of()));
        assertThrows(IllegalArgumentException.class, () -> FedAvg.average(List.of(new FedAvg.Contribution(a, 0))));
    }
}
