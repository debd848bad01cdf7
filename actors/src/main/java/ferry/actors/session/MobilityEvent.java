package ferry.actors.session;

import ferry.persistence.CborSerializable;

/**
 * A scripted move: in round {@code round}, when device {@code device} reaches batch {@code atBatch} of its round,
 * it moves to edge {@code toEdge}. With {@code inHand} (FedFly's case) the device leaves while that batch is at
 * the old edge, which finishes it and hands its gradient on; without, it moves between batches. Scripted moves
 * make mobility experiments repeatable.
 */
public record MobilityEvent(String device, int round, long atBatch, String toEdge, boolean inHand)
        implements CborSerializable {
    /** A move with the batch in hand. */
    public MobilityEvent(String device, int round, long atBatch, String toEdge) {
        this(device, round, atBatch, toEdge, true);
    }

    public MobilityEvent {
        if (device == null || device.isBlank() || toEdge == null || toEdge.isBlank()) {
            throw new IllegalArgumentException("a move needs a device and a target edge");
        }
        if (round < 1 || atBatch < 0) {
            throw new IllegalArgumentException("a move needs round >= 1 and batch >= 0, got round " + round
                    + ", batch " + atBatch);
        }
    }
}
