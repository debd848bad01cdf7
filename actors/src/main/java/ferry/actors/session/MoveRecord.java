package ferry.actors.session;

import ferry.persistence.CborSerializable;

/**
 * One move of a device during a round: from where to where, at which batch, how it went. {@code millis} runs
 * from the trigger to the first batch trained on the new edge, and {@code batchesInWindow} batches were
 * completed in that time (the batch in hand and the first on the new edge), so the move's overhead is
 * {@code millis} minus that many normal steps. {@code bytesMoved} is the edge-side state that travelled (0 for
 * the restart baseline); {@code error} is non-null when the move was refused and the device stayed put.
 */
public record MoveRecord(String device, String fromEdge, String toEdge, long atBatch, MigrationMode mode, double millis,
                         int batchesInWindow, long bytesMoved, String error) implements CborSerializable {}
