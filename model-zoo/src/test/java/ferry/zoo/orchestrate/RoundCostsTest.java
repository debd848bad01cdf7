package ferry.zoo.orchestrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ferry.zoo.TestData;
import ferry.zoo.data.BatchPlan;
import ferry.zoo.model.CutProfile;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.LocalTraining;
import ferry.zoo.train.MonolithicModel;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner's costs agree with the model's profile and with the bytes real split training moves. */
class RoundCostsTest {
    static final ModelSpec MLP = ModelSpecs.mlp(new int[] {1, 28, 28}, 10);

    @Test
    void flopsFollowTheProfile() {
        ModelSpec vgg = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
        RoundCosts c = new RoundCosts(vgg, 32, 2);
        assertEquals(vgg.units().size(), c.cuts());
        for (int cut = 1; cut < c.cuts(); cut++) {
            CutProfile p = vgg.profile(cut);
            assertEquals(2.0 * 70 * (p.clientForwardFlops() + p.clientBackwardFlops()), c.deviceFlops(70, cut));
            assertEquals(2.0 * 70 * (p.serverForwardFlops() + p.serverBackwardFlops()), c.edgeFlops(70, cut));
            // Local training is the whole model: both halves at any cut.
            assertEquals(c.deviceFlops(70, cut) + c.edgeFlops(70, cut), c.deviceFlops(70, 0));
        }
        assertEquals(0, c.edgeFlops(70, 0));
        assertEquals(0, c.splitBytes(70, 0));
        assertEquals(2 * 3, c.steps(70));
        assertThrows(IllegalArgumentException.class, () -> c.deviceFlops(70, 7));
    }

    static long bytes(List<NamedTensor> weights) {
        long n = 0;
        for (NamedTensor t : weights) {
            n += t.tensor().byteSize();
        }
        return n;
    }

    @Test
    void predictedBytesAreWhatRealTrainingMoves() {
        int[] indices = new int[70]; // two full batches of 32 and one of 6
        for (int i = 0; i < indices.length; i++) {
            indices[i] = i;
        }
        RoundCosts c = new RoundCosts(MLP, 32, 2);
        try (MonolithicModel whole = new MonolithicModel(MLP, 1, SgdConfig.DEFAULT)) {
            assertEquals(bytes(whole.weights()), c.deviceModelBytes(0));
        }
        for (int cut = 1; cut < MLP.units().size(); cut++) {
            try (ClientHalf client = new ClientHalf(MLP, cut, 1, SgdConfig.DEFAULT);
                 ServerHalf server = new ServerHalf(MLP, cut, 1, SgdConfig.DEFAULT)) {
                BatchPlan plan = new BatchPlan(indices, 32, 5);
                long moved = 0;
                for (int e = 0; e < 2; e++) {
                    LocalTraining.EpochStats st = LocalTraining.splitEpoch(client, server, TestData.train(), plan,
                            LocalTraining.SILENT);
                    moved += st.bytesUp() + st.bytesDown();
                }
                assertEquals(moved, c.splitBytes(70, cut), "cut " + cut);
                assertEquals(bytes(client.weights()), c.deviceModelBytes(cut), "cut " + cut);
                assertEquals(8.0 * (moved + 2 * bytes(client.weights())), c.deviceBits(70, cut));
            }
        }
    }
}
