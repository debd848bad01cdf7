package ferry.actors.session;

import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;

/**
 * What a session asks one device to do in one round: train its partition for {@code localEpochs} starting from
 * the global model, either locally ({@code offloaded == false}, FedAvg) or split at {@code cut} with its edge.
 * {@code attempt} grows each time a round is (re)started, so late answers of an abandoned attempt are ignored.
 */
public record RoundInstruction(String sessionId, int round, int attempt, boolean offloaded, String model,
                               String dataset, int cut, int batchSize, int localEpochs, float learningRate,
                               long seed, ModelRef global) implements CborSerializable {}
