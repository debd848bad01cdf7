package ferry.zoo.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ferry.zoo.train.ClientHalf;
import ferry.zoo.train.ModelState;
import ferry.zoo.train.NamedTensor;
import ferry.zoo.train.ServerHalf;
import ferry.zoo.train.SgdConfig;
import org.junit.jupiter.api.Test;

class ModelSpecTest {

    static long floats(ModelState s) {
        long n = 0;
        for (NamedTensor t : s.weights()) {
            n += t.tensor().data().length;
        }
        return n;
    }

    @Test
    void profileParameterBytesMatchTheBuiltHalvesAtEveryCut() {
        for (ModelSpec spec : new ModelSpec[] {
            ModelSpecs.vgg5(new int[] {1, 28, 28}, 10),
            ModelSpecs.vgg5(new int[] {3, 32, 32}, 10),
            ModelSpecs.resnet8(new int[] {3, 32, 32}, 10),
            ModelSpecs.mlp(new int[] {1, 28, 28}, 10)}) {
            for (CutProfile p : spec.profiles()) {
                try (ClientHalf c = new ClientHalf(spec, p.cut(), 1, SgdConfig.DEFAULT);
                     ServerHalf s = new ServerHalf(spec, p.cut(), 1, SgdConfig.DEFAULT)) {
                    assertEquals(p.clientParamBytes(), 4 * floats(c.state()), spec.name() + " cut " + p.cut());
                    assertEquals(p.serverParamBytes(), 4 * floats(s.state()), spec.name() + " cut " + p.cut());
                }
            }
        }
    }

    @Test
    void vgg5ShapesAndCostsAreThoseOfFedFly() {
        ModelSpec v = ModelSpecs.vgg5(new int[] {3, 32, 32}, 10);
        assertEquals(4, v.defaultCut());
        assertArrayEquals(new int[] {64, 8, 8}, v.shapeAt(4));
        CutProfile p = v.profile(4);
        assertEquals("pool2", p.lastClientUnit());
        assertEquals(64 * 8 * 8 * 4, p.activationBytes());
        // conv32 on 32x32x3: 2*32*32*32*27 FLOPs; conv64 on 16x16x32: 2*16*16*64*288
        long convs = 2L * 32 * 32 * 32 * 27 + 2L * 16 * 16 * 64 * 288;
        assertTrue(p.clientForwardFlops() > convs && p.clientForwardFlops() < convs * 1.05, "" + p);
        assertTrue(p.clientBackwardFlops() > p.clientForwardFlops());
        ModelSpec m = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
        assertArrayEquals(new int[] {64, 7, 7}, m.shapeAt(4));
        // server params: conv64 (64*64*9+64) + BN (4*64) + fc128 (3136*128+128) + fc10 (128*10+10)
        assertEquals(4L * (64 * 64 * 9 + 64 + 4 * 64 + 3136 * 128 + 128 + 1290), m.profile(4).serverParamBytes());
        // moving the cut later moves work to the device
        assertTrue(m.profile(5).clientForwardFlops() > m.profile(4).clientForwardFlops());
        assertEquals(6, m.profiles().size());
    }

    @Test
    void badSpecsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ModelSpecs.vgg5(new int[] {28, 28}, 10));
        assertThrows(IllegalArgumentException.class, () -> ModelSpecs.byName("alexnet", new int[] {1, 28, 28}, 10));
        ModelSpec v = ModelSpecs.vgg5(new int[] {1, 28, 28}, 10);
        assertThrows(IllegalArgumentException.class, () -> v.profile(0));
        assertThrows(IllegalArgumentException.class, () -> v.profile(7));
    }
}
