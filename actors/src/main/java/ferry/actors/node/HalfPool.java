package ferry.actors.node;

import ferry.zoo.train.Net;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Idle model halves of this node, by shape (model, dataset, cut, learning rate). Building a half means building
 * and initialising a DJL block; an edge that hands a device off gives its half back here, and the next edge on
 * the node that takes a device over loads the moved state into it instead of building one.
 */
public final class HalfPool implements AutoCloseable {
    static final int PER_KEY = 4;
    private final Map<String, Deque<Net>> idle = new HashMap<>();

    /** An idle half of this shape, or a new one. The caller owns it until it gives it back or closes it. */
    @SuppressWarnings("unchecked")
    public synchronized <T extends Net> T take(String key, Supplier<T> make) {
        Deque<Net> q = idle.get(key);
        Net n = q == null ? null : q.poll();
        return n != null ? (T) n : make.get();
    }

    /** Gives a half back; beyond a few per shape it is closed. */
    public void give(String key, Net half) {
        synchronized (this) {
            Deque<Net> q = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
            if (q.size() < PER_KEY) {
                q.push(half);
                return;
            }
        }
        half.close();
    }

    /** Closes every idle half (their native memory); called when the node stops. */
    @Override
    public synchronized void close() {
        idle.values().forEach(q -> q.forEach(Net::close));
        idle.clear();
    }
}
