package ferry.zoo.train;

import ferry.zoo.tensor.MalformedTensorException;
import ferry.zoo.tensor.Tensor;
import ferry.zoo.tensor.TensorCodec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * ModelState as bytes, little-endian:
 * <pre>
 *   "FRYS" magic, u16 version (1), i64 cursor,
 *   i32 weight count, then per weight: u16 name length, UTF-8 name, tensor (see {@link TensorCodec}),
 *   i32 momentum count, then the same per momentum buffer.
 * </pre>
 * A header of a few bytes per tensor; everything else is the floats themselves.
 */
public final class ModelStateCodec {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = {'F', 'R', 'Y', 'S'};
    private static final int MAX_TENSORS = 1 << 16;

    private ModelStateCodec() {}

    public static byte[] encode(ModelState s) {
        int size = 4 + 2 + 8 + 4 + 4 + entriesSize(s.weights()) + entriesSize(s.momentum());
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).putShort((short) VERSION).putLong(s.cursor());
        writeEntries(buf, s.weights());
        writeEntries(buf, s.momentum());
        return buf.array();
    }

    public static ModelState decode(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte[] magic = new byte[4];
            buf.get(magic);
            if (magic[0] != 'F' || magic[1] != 'R' || magic[2] != 'Y' || magic[3] != 'S') {
                throw new MalformedTensorException("not a Ferry model state: bad magic");
            }
            int version = Short.toUnsignedInt(buf.getShort());
            if (version != VERSION) {
                throw new MalformedTensorException("model state version " + version + ", this build reads "
                        + VERSION);
            }
            long cursor = buf.getLong();
            List<NamedTensor> w = readEntries(buf);
            List<NamedTensor> m = readEntries(buf);
            if (buf.hasRemaining()) {
                throw new MalformedTensorException(buf.remaining() + " trailing bytes after a model state");
            }
            return new ModelState(w, m, cursor);
        } catch (BufferUnderflowException e) {
            throw new MalformedTensorException("truncated model state (" + bytes.length + " bytes)");
        }
    }

    private static int entriesSize(List<NamedTensor> entries) {
        int n = 0;
        for (NamedTensor e : entries) {
            n += 2 + e.name().getBytes(StandardCharsets.UTF_8).length + TensorCodec.encodedSize(e.tensor());
        }
        return n;
    }

    private static void writeEntries(ByteBuffer buf, List<NamedTensor> entries) {
        buf.putInt(entries.size());
        for (NamedTensor e : entries) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            buf.putShort((short) name.length).put(name);
            TensorCodec.write(e.tensor(), buf);
        }
    }

    private static List<NamedTensor> readEntries(ByteBuffer buf) {
        int count = buf.getInt();
        if (count < 0 || count > MAX_TENSORS) {
            throw new MalformedTensorException("model state claims " + count + " tensors");
        }
        List<NamedTensor> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] name = new byte[Short.toUnsignedInt(buf.getShort())];
            buf.get(name);
            Tensor t = TensorCodec.read(buf);
            out.add(new NamedTensor(new String(name, StandardCharsets.UTF_8), t));
        }
        return out;
    }
}
