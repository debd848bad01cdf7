package ferry.grpc;

import ferry.actors.node.DatasetRegistry;
import ferry.actors.session.RoundInstruction;
import ferry.grpc.proto.DType;
import ferry.grpc.proto.StepRequest;
import ferry.grpc.proto.TensorData;
import ferry.zoo.model.ModelSpec;
import ferry.zoo.model.ModelSpecs;
import ferry.zoo.tensor.TensorCodec;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a step's activations and labels against the round the device trains, before anything reaches an
 * actor, and converts between the wire's raw little-endian float32 bytes and the cluster's tensor byte format
 * ({@link TensorCodec}: a rank byte and the dimensions, then the same floats).
 */
final class StepPayload {
    /** The per-sample cut-layer shape of (model, dataset, cut), computed once. */
    private static final Map<String, int[]> CUT_SHAPES = new ConcurrentHashMap<>();

    private StepPayload() {}

    /**
     * The activations in the cluster's tensor format, or a refusal (INVALID_ARGUMENT, RESOURCE_EXHAUSTED) that
     * says what is wrong.
     */
    static byte[] checked(StepRequest req, RoundInstruction ins, int maxPayloadBytes) {
        if (!req.hasActivations()) {
            throw Refusals.invalid("step " + req.getCursor() + " carries no activations");
        }
        TensorData t = req.getActivations();
        ByteString data = t.getData();
        if (data.size() > maxPayloadBytes) {
            throw Refusals.tooLarge("activations of " + data.size() + " bytes exceed this edge's limit of "
                    + maxPayloadBytes + " bytes");
        }
        if (t.getDtype() != DType.FLOAT32) {
            throw Refusals.invalid("activations dtype " + dtypeName(t) + " is not supported: send FLOAT32 "
                    + "(little-endian IEEE 754)");
        }
        int[] want = cutShape(ins);
        int[] shape = t.getShapeList().stream().mapToInt(Integer::intValue).toArray();
        String expected = "[B, " + join(want) + "] (B = 1.." + ins.batchSize() + ") of " + ins.model() + " at cut "
                + ins.cut();
        if (shape.length != want.length + 1) {
            throw Refusals.invalid("activations shape " + Arrays.toString(shape) + " has rank " + shape.length
                    + "; the cut-layer shape is " + expected);
        }
        long n = 1;
        for (int d : shape) {
            if (d < 1) {
                throw Refusals.invalid("activations shape " + Arrays.toString(shape) + " has a dimension below 1");
            }
            n *= d;
            if (n > maxPayloadBytes) {
                throw Refusals.tooLarge("activations shape " + Arrays.toString(shape) + " is larger than this "
                        + "edge's limit of " + maxPayloadBytes + " bytes");
            }
        }
        if (!Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), want) || shape[0] > ins.batchSize()) {
            throw Refusals.invalid("activations shape " + Arrays.toString(shape) + " does not match the cut-layer "
                    + "shape " + expected);
        }
        if (4 * n != data.size()) {
            throw Refusals.invalid("activations shape " + Arrays.toString(shape) + " holds " + n + " float32 values ("
                    + 4 * n + " bytes) but " + data.size() + " bytes came");
        }
        checkLabels(req.getLabelsList(), shape[0]);
        ByteBuffer raw = data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = raw.asFloatBuffer();
        for (int i = 0; i < floats.limit(); i++) {
            float v = floats.get(i);
            if (!Float.isFinite(v)) {
                throw Refusals.invalid("activations hold a non-finite value (" + v + ") at index " + i
                        + " of shape " + Arrays.toString(shape) + ": nothing was trained");
            }
        }
        ByteBuffer out = ByteBuffer.allocate(1 + 4 * shape.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) shape.length);
        for (int d : shape) {
            out.putInt(d);
        }
        data.copyTo(out);
        return out.array();
    }

    static int[] labels(StepRequest req) {
        return req.getLabelsList().stream().mapToInt(Integer::intValue).toArray();
    }

    private static void checkLabels(List<Integer> labels, int batch) {
        if (labels.size() != batch) {
            throw Refusals.invalid(labels.size() + " labels for a batch of " + batch + " activations");
        }
        for (int i = 0; i < labels.size(); i++) {
            int l = labels.get(i);
            if (l < 0 || l >= 10) {
                throw Refusals.invalid("label " + l + " at position " + i + " is outside 0..9");
            }
        }
    }

    /** A cluster tensor (rank byte, dimensions, floats) as the wire's raw bytes and shape. */
    static TensorData toWire(byte[] codec) {
        ByteBuffer buf = ByteBuffer.wrap(codec).order(ByteOrder.LITTLE_ENDIAN);
        int rank = Byte.toUnsignedInt(buf.get());
        TensorData.Builder b = TensorData.newBuilder().setDtype(DType.FLOAT32);
        for (int i = 0; i < rank; i++) {
            b.addShape(buf.getInt());
        }
        return b.setData(ByteString.copyFrom(codec, buf.position(), codec.length - buf.position())).build();
    }

    static int[] cutShape(RoundInstruction ins) {
        return CUT_SHAPES.computeIfAbsent(ins.model() + "/" + ins.dataset() + "/" + ins.cut(), k -> {
            ModelSpec spec = ModelSpecs.byName(ins.model(), DatasetRegistry.sampleShape(ins.dataset()), 10);
            return spec.shapeAt(ins.cut());
        }).clone();
    }

    private static String dtypeName(TensorData t) {
        return t.getDtype() == DType.UNRECOGNIZED ? "#" + t.getDtypeValue() : t.getDtype().name();
    }

    private static String join(int[] a) {
        return Arrays.toString(a).replace("[", "").replace("]", "");
    }
}
