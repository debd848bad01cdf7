package ferry.zoo.train;

import java.util.List;

/**
 * Everything needed to resume a half (or a whole model) exactly: its weights (running statistics included), its
 * optimizer's momentum buffers, and the batch cursor (batches trained so far). Names are canonical, so the
 * client and server halves of a model together carry exactly the names of the monolithic model.
 */
public record ModelState(List<NamedTensor> weights, List<NamedTensor> momentum, long cursor) {
    public ModelState {
        weights = List.copyOf(weights);
        momentum = List.copyOf(momentum);
        if (cursor < 0) {
            throw new IllegalArgumentException("cursor must be >= 0, got " + cursor);
        }
    }

    public long byteSize() {
        long n = 0;
        for (NamedTensor t : weights) {
            n += t.tensor().byteSize();
        }
        for (NamedTensor t : momentum) {
            n += t.tensor().byteSize();
        }
        return n;
    }

    /** Bit-exact equality of every tensor, the names and the cursor. */
    public boolean bitEquals(ModelState o) {
        return cursor == o.cursor && same(weights, o.weights) && same(momentum, o.momentum);
    }

    private static boolean same(List<NamedTensor> a, List<NamedTensor> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).name().equals(b.get(i).name()) || !a.get(i).tensor().bitEquals(b.get(i).tensor())) {
                return false;
            }
        }
        return true;
    }
}
