package ferry.actors.session;

import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;

import java.util.List;

/**
 * What a session asks one device to do in one round: train its partition for {@code localEpochs} starting from
 * the global model, either locally ({@code offloaded == false}, FedAvg) or split at {@code cut} with its edge.
 * {@code attempt} grows each time a round is (re)started, so late answers of an abandoned attempt are ignored.
 * {@code moves} are this device's scripted moves in this round; {@code migration} says what a move does.
 * {@code parallel}: the edge trains one shared server half for all its devices at once (PSL / EPSL, with
 * last-layer aggregation over a fraction {@code phi} of each batch) instead of one half per device.
 * {@code selector} and {@code selectionFraction}: the device trains this round on the share of its samples the
 * selector picks (see ferry.zoo.select); "none" and 1 mean all of them.
 */
public record RoundInstruction(String sessionId, int round, int attempt, boolean offloaded, String model,
                               String dataset, int cut, int batchSize, int localEpochs, float learningRate,
                               long seed, ModelRef global, MigrationMode migration, List<MobilityEvent> moves,
                               boolean parallel, double phi, String selector, double selectionFraction)
        implements CborSerializable {
    public RoundInstruction {
        moves = moves == null ? List.of() : List.copyOf(moves);
        selector = selector == null ? "none" : selector;
        selectionFraction = selectionFraction == 0 ? 1 : selectionFraction;
    }
}
