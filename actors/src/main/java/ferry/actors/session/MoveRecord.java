package ferry.actors.session;

import ferry.persistence.CborSerializable;

/**
 * One move of a device during a round: from where to where, at which batch, how it went. {@code millis} runs
 * from the trigger to the first batch trained on the new edge; {@code bytesMoved} is the edge-side state that
 * travelled (0 for the restart baseline); {@code error} is non-null when the move was refused and the device
 * stayed where it was.
 */
public record MoveRecord(String fromEdge, String toEdge, long atBatch, MigrationMode mode, double millis,
                         long bytesMoved, String error) implements CborSerializable {}
