package ferry.zoo.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TensorCodecTest {

    @Test
    void roundTripsBitExactlyAsLittleEndianFloats() {
        float[] data = {1.5f, -0f, Float.MIN_VALUE, 3.4e38f, -7.25f, 0.1f};
        Tensor t = new Tensor(new int[] {2, 3}, data);
        byte[] bytes = TensorCodec.encode(t);
        assertEquals(1 + 8 + 24, bytes.length);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2, b.get());
        assertEquals(2, b.getInt());
        assertEquals(3, b.getInt());
        assertEquals(1.5f, b.getFloat());
        assertTrue(TensorCodec.decode(bytes).bitEquals(t));
    }

    @Test
    void malformedPayloadsGetMessagesNotCrashes() {
        byte[] good = TensorCodec.encode(new Tensor(new int[] {4, 2}, new float[8]));
        assertTrue(assertThrows(MalformedTensorException.class, () -> TensorCodec.decode(new byte[0]))
                .getMessage().contains("empty"));
        assertTrue(assertThrows(MalformedTensorException.class,
                () -> TensorCodec.decode(Arrays.copyOf(good, good.length - 1))).getMessage().contains("truncated"));
        assertTrue(assertThrows(MalformedTensorException.class,
                () -> TensorCodec.decode(Arrays.copyOf(good, good.length + 4))).getMessage().contains("trailing"));
        byte[] rank = good.clone();
        rank[0] = 40;
        assertTrue(assertThrows(MalformedTensorException.class, () -> TensorCodec.decode(rank))
                .getMessage().contains("rank"));
        byte[] negative = good.clone();
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putInt(1, -4);
        assertTrue(assertThrows(MalformedTensorException.class, () -> TensorCodec.decode(negative))
                .getMessage().contains("negative"));
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putInt(1, Integer.MAX_VALUE).putInt(5, 1000);
        assertThrows(MalformedTensorException.class, () -> TensorCodec.decode(huge));
        assertThrows(MalformedTensorException.class, () -> new Tensor(new int[] {3}, new float[2]));
    }

    @Test
    void randomGarbageNeverEscapesAsAnotherException() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[r.nextInt(64)];
            for (int k = 0; k < junk.length; k++) {
                junk[k] = (byte) r.nextInt(256);
            }
            try {
                TensorCodec.decode(junk);
            } catch (MalformedTensorException expected) {
                assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
            }
        }
    }
}
