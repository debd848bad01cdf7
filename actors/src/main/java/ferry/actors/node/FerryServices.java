package ferry.actors.node;

import ferry.actors.device.Device;
import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.edge.RoundMaster;
import ferry.actors.session.TrainingSession;
import ferry.persistence.BlobStore;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * What every entity on a node shares and that is not itself persisted: the blob store, the datasets, a way to
 * reach other entities, the executor for blocking work (JDBC, aggregation, evaluation), and a pool of idle
 * model halves, and the node's metrics.
 */
public record FerryServices(ClusterSharding sharding, BlobStore blobs, DatasetRegistry datasets,
                            Executor blockingExecutor, Duration askTimeout, HalfPool halves, Faults faults,
                            FerryMetrics metrics) {

    public EntityRef<Device.Command> device(String id) {
        return sharding.entityRefFor(Device.TYPE_KEY, id);
    }

    public EntityRef<EdgeServer.Command> edge(String id) {
        return sharding.entityRefFor(EdgeServer.TYPE_KEY, id);
    }

    public EntityRef<ferry.actors.edge.EdgeDirectory.Command> edgeDirectory() {
        return sharding.entityRefFor(ferry.actors.edge.EdgeDirectory.TYPE_KEY, ferry.actors.edge.EdgeDirectory.ID);
    }

    public EntityRef<TrainingSession.Command> session(String id) {
        return sharding.entityRefFor(TrainingSession.TYPE_KEY, id);
    }

    /** The top of a session's hierarchical FedAvg, on a cloud node. */
    public EntityRef<ferry.actors.cloud.CloudAggregator.Command> cloud(String sessionId) {
        return sharding.entityRefFor(ferry.actors.cloud.CloudAggregator.TYPE_KEY, sessionId);
    }

    /** The shared server half of a parallel (PSL / EPSL) session on one edge. */
    public EntityRef<RoundMaster.Command> roundMaster(String sessionId, String edgeId) {
        return sharding.entityRefFor(RoundMaster.TYPE_KEY, RoundMaster.entityId(sessionId, edgeId));
    }

    /** A device's server half on one edge. */
    public EntityRef<OffloadedTraining.Command> offloaded(String sessionId, String deviceId, String edgeId) {
        return sharding.entityRefFor(OffloadedTraining.TYPE_KEY,
                OffloadedTraining.entityId(sessionId, deviceId, edgeId));
    }

    /** Every listed device's state, asked all at once; by id, in the order given. Fails if any ask does. */
    public CompletableFuture<Map<String, Device.State>> deviceStates(Collection<String> ids, Scheduler scheduler) {
        return statesOf(ids, id -> AskPattern.<Device.Command, Device.State>ask(device(id), Device.Get::new,
                askTimeout, scheduler));
    }

    /** Every listed edge's registration, asked all at once; by id, in the order given. Fails if any ask does. */
    public CompletableFuture<Map<String, EdgeServer.State>> edgeStates(Collection<String> ids, Scheduler scheduler) {
        return statesOf(ids, id -> AskPattern.<EdgeServer.Command, EdgeServer.State>ask(edge(id),
                EdgeServer.Get::new, askTimeout, scheduler));
    }

    private static <S> CompletableFuture<Map<String, S>> statesOf(Collection<String> ids,
                                                                  Function<String, CompletionStage<S>> ask) {
        Map<String, CompletableFuture<S>> asks = new LinkedHashMap<>();
        for (String id : ids) {
            asks.put(id, ask.apply(id).toCompletableFuture());
        }
        return CompletableFuture.allOf(asks.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
            Map<String, S> out = new LinkedHashMap<>();
            asks.forEach((id, f) -> out.put(id, f.join()));
            return out;
        });
    }
}
