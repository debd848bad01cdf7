package ferry.actors.node;

import ferry.persistence.BlobStore;
import ferry.persistence.ModelRef;
import ferry.zoo.train.ModelState;
import ferry.zoo.train.ModelStateCodec;
import ferry.zoo.train.NamedTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Weights in and out of the blob store, in the zoo's versioned byte format. Blocking. */
public final class ModelBlobs {
    private ModelBlobs() {}

    public static ModelRef putWeights(BlobStore blobs, List<NamedTensor> weights) {
        return blobs.put(ModelStateCodec.encode(new ModelState(weights, List.of(), 0)));
    }

    public static ModelRef putState(BlobStore blobs, ModelState state) {
        return blobs.put(ModelStateCodec.encode(state));
    }

    public static ModelState getState(BlobStore blobs, ModelRef ref) {
        return ModelStateCodec.decode(blobs.get(ref));
    }

    public static List<NamedTensor> getWeights(BlobStore blobs, ModelRef ref) {
        return getState(blobs, ref).weights();
    }

    /** The weights of {@code all} whose names a half has, in that half's order. */
    public static List<NamedTensor> select(List<NamedTensor> all, List<String> names) {
        Set<String> wanted = Set.copyOf(names);
        List<NamedTensor> out = new ArrayList<>(names.size());
        for (NamedTensor t : all) {
            if (wanted.contains(t.name())) {
                out.add(t);
            }
        }
        return out;
    }

    /** Several halves' weights joined in order (client then server is the monolithic order). */
    public static List<NamedTensor> join(BlobStore blobs, List<ModelRef> parts) {
        List<NamedTensor> out = new ArrayList<>();
        for (ModelRef r : parts) {
            out.addAll(getWeights(blobs, r));
        }
        return out;
    }
}
