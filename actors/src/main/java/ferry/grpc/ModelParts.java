package ferry.grpc;

import ferry.zoo.tensor.Tensor;
import ferry.zoo.train.ModelState;
import ferry.zoo.train.ModelStateCodec;
import ferry.zoo.train.NamedTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A device's part of a model: the client half at a cut (the units before it) or the whole model. Parameter
 * names start with their unit's index ({@code "3.conv64.0.weight"}), so a part is chosen by name alone, in the
 * model's order, which is the order the device's half holds its parameters in.
 */
final class ModelParts {
    private ModelParts() {}

    /** The weights of {@code all} the device holds: those of units before {@code cut} (cut 0: all). */
    static List<NamedTensor> part(List<NamedTensor> all, int cut) {
        if (cut <= 0) {
            return all;
        }
        List<NamedTensor> out = new ArrayList<>();
        for (NamedTensor t : all) {
            if (unit(t.name()) < cut) {
                out.add(t);
            }
        }
        return out;
    }

    static byte[] encode(List<NamedTensor> weights) {
        return ModelStateCodec.encode(new ModelState(weights, List.of(), 0));
    }

    /**
     * Decodes pushed weights and checks them against the part of the global model they train: same names in the
     * same order, same shapes, finite values. Refused with INVALID_ARGUMENT and a message otherwise.
     */
    static List<NamedTensor> checkedPush(byte[] bytes, List<NamedTensor> expected) {
        ModelState s;
        try {
            s = ModelStateCodec.decode(bytes);
        } catch (RuntimeException e) {
            throw Refusals.invalid("pushed weights are not in Ferry's model-state format: " + e.getMessage());
        }
        List<NamedTensor> got = s.weights();
        if (got.size() != expected.size()) {
            throw Refusals.invalid("pushed " + got.size() + " tensors; this round's part of the model has "
                    + expected.size());
        }
        for (int i = 0; i < got.size(); i++) {
            NamedTensor g = got.get(i);
            NamedTensor e = expected.get(i);
            if (!g.name().equals(e.name())) {
                throw Refusals.invalid("pushed tensor " + i + " is '" + g.name() + "', expected '" + e.name() + "'");
            }
            Tensor gt = g.tensor();
            if (!Arrays.equals(gt.shape(), e.tensor().shape())) {
                throw Refusals.invalid("pushed tensor '" + g.name() + "' has shape " + Arrays.toString(gt.shape())
                        + ", expected " + Arrays.toString(e.tensor().shape()));
            }
            int bad = gt.firstNonFinite();
            if (bad >= 0) {
                throw Refusals.invalid("pushed tensor '" + g.name() + "' holds a non-finite value at index " + bad);
            }
        }
        return got;
    }

    private static int unit(String name) {
        int dot = name.indexOf('.');
        try {
            return Integer.parseInt(dot < 0 ? name : name.substring(0, dot));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE; // not a unit parameter: never part of a client half
        }
    }
}
