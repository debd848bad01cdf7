package ferry.actors.node;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Injected faults, for chaos tests: an edge's server half that "crashes" (loses its live state) right after a
 * given step, as if its node had restarted; a device that goes silent. No faults are injected unless a test or
 * the chaos tooling asks.
 */
public final class Faults {
    public static final Faults NONE = new Faults();
    private final Map<String, Long> loseStateAfter = new ConcurrentHashMap<>();
    private final Map<String, Long> silentFrom = new ConcurrentHashMap<>();
    private final java.util.Set<String> loseStateBeforeFinish = ConcurrentHashMap.newKeySet();

    /** Device {@code deviceId} stops sending from step {@code cursor} on, as a device that walked out of range. */
    public Faults silenceDeviceFrom(String deviceId, long cursor) {
        silentFrom.put(deviceId, cursor);
        return this;
    }

    public boolean silentFrom(String deviceId, long cursor) {
        Long at = silentFrom.get(deviceId);
        return at != null && cursor >= at;
    }

    /** Lifts a device's silence. */
    public void speakAgain(String deviceId) {
        silentFrom.remove(deviceId);
    }

    /** The server half of entity {@code entityId} loses its live state once step {@code cursor} is trained. */
    public Faults loseStateAfterStep(String entityId, long cursor) {
        loseStateAfter.put(entityId, cursor);
        return this;
    }

    /** Whether the entity should lose its state now (each fault fires once). */
    public boolean losesStateAfter(String entityId, long cursor) {
        Long at = loseStateAfter.get(entityId);
        return at != null && at == cursor && loseStateAfter.remove(entityId, at);
    }

    /** The server half of entity {@code entityId} loses its live state when asked to end its round. */
    public Faults loseStateBeforeFinish(String entityId) {
        loseStateBeforeFinish.add(entityId);
        return this;
    }

    /** Whether the entity should lose its state before finishing (fires once). */
    public boolean losesStateBeforeFinish(String entityId) {
        return loseStateBeforeFinish.remove(entityId);
    }
}
