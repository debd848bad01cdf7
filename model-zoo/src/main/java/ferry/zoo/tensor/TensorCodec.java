package ferry.zoo.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Tensors as bytes: the data plane never carries JSON numbers. Layout, all little-endian:
 * <pre>
 *   u8  rank (0..8)
 *   i32 dims[rank]
 *   f32 data[product(dims)]
 * </pre>
 * {@link #decode} checks every length before it allocates, so a hostile or truncated payload is refused with a
 * message instead of an exception deep in native code.
 */
public final class TensorCodec {
    public static final int MAX_RANK = 8;

    private TensorCodec() {}

    public static int encodedSize(Tensor t) {
        return 1 + 4 * t.rank() + 4 * t.data().length;
    }

    public static byte[] encode(Tensor t) {
        ByteBuffer buf = ByteBuffer.allocate(encodedSize(t)).order(ByteOrder.LITTLE_ENDIAN);
        write(t, buf);
        return buf.array();
    }

    /** Writes one tensor at the buffer's position; the buffer must be little-endian. */
    public static void write(Tensor t, ByteBuffer buf) {
        buf.put((byte) t.rank());
        for (int d : t.shape()) {
            buf.putInt(d);
        }
        buf.asFloatBuffer().put(t.data());
        buf.position(buf.position() + 4 * t.data().length);
    }

    public static Tensor decode(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Tensor t = read(buf);
        if (buf.hasRemaining()) {
            throw new MalformedTensorException(buf.remaining() + " trailing bytes after a tensor of shape "
                    + Arrays.toString(t.shape()));
        }
        return t;
    }

    /** Reads one tensor from the buffer's position; the buffer must be little-endian. */
    public static Tensor read(ByteBuffer buf) {
        if (buf.remaining() < 1) {
            throw new MalformedTensorException("empty tensor payload: expected a rank byte");
        }
        int rank = Byte.toUnsignedInt(buf.get());
        if (rank > MAX_RANK) {
            throw new MalformedTensorException("tensor rank " + rank + " is above the maximum " + MAX_RANK);
        }
        if (buf.remaining() < 4 * rank) {
            throw new MalformedTensorException("truncated tensor header: expected " + rank + " dimensions");
        }
        int[] shape = new int[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = buf.getInt();
        }
        long n = Tensor.elementCount(shape);
        if (buf.remaining() < 4 * n) {
            throw new MalformedTensorException("truncated tensor data: shape " + Arrays.toString(shape) + " needs "
                    + 4 * n + " bytes, " + buf.remaining() + " remain");
        }
        float[] data = new float[(int) n];
        FloatBuffer fb = buf.asFloatBuffer();
        fb.get(data);
        buf.position(buf.position() + 4 * (int) n);
        return new Tensor(shape, data);
    }
}
