package ferry.persistence;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps the blobs this node wrote or read most recently in memory, up to a byte budget, in front of the durable
 * store. A hand-off between two edges on the same node then reads the state it just wrote without a database
 * round trip; everything is still written through, so durability is unchanged. Hits are copies, as the store
 * hands out arrays its callers own.
 */
public final class CachingBlobStore implements BlobStore {
    private final BlobStore durable;
    private final long budgetBytes;
    private final LinkedHashMap<String, byte[]> recent = new LinkedHashMap<>(16, 0.75f, true);
    private long cachedBytes;

    public CachingBlobStore(BlobStore durable, long budgetBytes) {
        this.durable = durable;
        this.budgetBytes = budgetBytes;
    }

    @Override
    public ModelRef put(byte[] bytes) {
        ModelRef ref = durable.put(bytes);
        remember(ref, bytes.clone());
        return ref;
    }

    @Override
    public byte[] get(ModelRef ref) {
        byte[] hit;
        synchronized (this) {
            hit = recent.get(ref.sha256());
        }
        if (hit != null) {
            return hit.clone();
        }
        byte[] bytes = durable.get(ref);
        remember(ref, bytes.clone());
        return bytes;
    }

    @Override
    public boolean contains(ModelRef ref) {
        synchronized (this) {
            if (recent.containsKey(ref.sha256())) {
                return true;
            }
        }
        return durable.contains(ref);
    }

    private synchronized void remember(ModelRef ref, byte[] bytes) {
        if (bytes.length > budgetBytes) {
            return;
        }
        byte[] old = recent.put(ref.sha256(), bytes);
        cachedBytes += bytes.length - (old == null ? 0 : old.length);
        Iterator<Map.Entry<String, byte[]>> it = recent.entrySet().iterator();
        while (cachedBytes > budgetBytes && it.hasNext()) {
            cachedBytes -= it.next().getValue().length;
            it.remove();
        }
    }
}
