package ferry.actors.node;

import ferry.actors.device.Device;
import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.edge.RoundMaster;
import ferry.actors.session.TrainingSession;
import ferry.persistence.BlobStore;
import java.time.Duration;
import java.util.concurrent.Executor;
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

    /** The shared server half of a parallel (PSL / EPSL) session on one edge. */
    public EntityRef<ferry.actors.cloud.CloudAggregator.Command> cloud(String sessionId) {
        return sharding.entityRefFor(ferry.actors.cloud.CloudAggregator.TYPE_KEY, sessionId);
    }

    public EntityRef<RoundMaster.Command> roundMaster(String sessionId, String edgeId) {
        return sharding.entityRefFor(RoundMaster.TYPE_KEY, RoundMaster.entityId(sessionId, edgeId));
    }

    /** A device's server half on one edge. */
    public EntityRef<OffloadedTraining.Command> offloaded(String sessionId, String deviceId, String edgeId) {
        return sharding.entityRefFor(OffloadedTraining.TYPE_KEY,
                OffloadedTraining.entityId(sessionId, deviceId, edgeId));
    }
}
