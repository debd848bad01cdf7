package ferry.actors.node;

import com.typesafe.config.Config;
import ferry.actors.device.Device;
import ferry.actors.edge.EdgeServer;
import ferry.actors.edge.OffloadedTraining;
import ferry.actors.cloud.CloudAggregator;
import ferry.actors.edge.EdgeDirectory;
import ferry.actors.edge.RoundMaster;
import ferry.actors.session.TrainingSession;
import ferry.persistence.CachingBlobStore;
import ferry.persistence.FerryDatabase;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.external.ExternalShardAllocation;
import org.apache.pekko.cluster.sharding.external.ExternalShardAllocationStrategy;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * One Ferry node: an ActorSystem in the cluster, the database schema made sure of, and the four sharded entity
 * types started. Training entities run on their own dispatcher, since a step blocks a thread for tens of
 * milliseconds and must not starve the cluster's heartbeats.
 */
public final class FerryNode implements AutoCloseable {
    public static final String TRAINING_DISPATCHER = "ferry.training-dispatcher";
    /** The role of nodes that host sessions, devices and the edge registry (the control plane). */
    public static final String CONTROL = "control";

    private final ActorSystem<Void> system;
    private final FerryDatabase database;
    private final FerryServices services;

    private FerryNode(ActorSystem<Void> system, FerryDatabase database, FerryServices services) {
        this.system = system;
        this.database = database;
        this.services = services;
    }

    /** Starts a node; with no seed nodes configured it forms a cluster of its own. */
    public static FerryNode start(String name, Config config, DatasetRegistry datasets) {
        return start(name, config, datasets, Faults.NONE);
    }

    /** A node with injected faults, for chaos tests. */
    public static FerryNode start(String name, Config config, DatasetRegistry datasets, Faults faults) {
        FerryDatabase db = FerryDatabase.fromConfig(config);
        try {
            db.ensureSchema();
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
        try {
            Cluster cluster = Cluster.get(system);
            if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
                cluster.manager().tell(Join.create(cluster.selfMember().address()));
            }
            NodeLiveness.get(system); // this node's probe and pinger, for fast failover
            ClusterSharding sharding = ClusterSharding.get(system);
            FerryServices services = new FerryServices(sharding,
                    new CachingBlobStore(db.blobStore(), config.getBytes("ferry.blob-cache-size")), datasets,
                    system.dispatchers().lookup(DispatcherSelector.fromConfig(TRAINING_DISPATCHER)),
                    config.getDuration("ferry.ask-timeout"), new HalfPool(), faults, new FerryMetrics());
            Props training = DispatcherSelector.fromConfig(TRAINING_DISPATCHER);
            sharding.init(Entity.of(Device.TYPE_KEY, e -> Device.create(e.getEntityId(), services))
                    .withEntityProps(training).withRole(CONTROL));
            // An edge's server halves form one shard, pinned by external shard allocation to the node that
            // hosts the edge (see hostEdge): a device that moves to an edge on another node has its server
            // half taken over there.
            sharding.init(Entity.of(OffloadedTraining.TYPE_KEY,
                    e -> OffloadedTraining.create(e.getEntityId(), services)).withEntityProps(training)
                    .withMessageExtractor(new EdgeShards<>())
                    .withAllocationStrategy(ExternalShardAllocationStrategy.create(system,
                            OffloadedTraining.TYPE_KEY.name(), Duration.ofSeconds(5))));
            sharding.init(Entity.of(RoundMaster.TYPE_KEY, e -> RoundMaster.create(e.getEntityId(), services))
                    .withEntityProps(training).withMessageExtractor(new EdgeShards<>())
                    .withAllocationStrategy(ExternalShardAllocationStrategy.create(system,
                            RoundMaster.TYPE_KEY.name(), Duration.ofSeconds(5))));
            // The top of hierarchical FedAvg lives on cloud nodes; other nodes reach it through a proxy.
            sharding.init(Entity.of(CloudAggregator.TYPE_KEY, e -> CloudAggregator.create(services))
                    .withEntityProps(training).withRole(CloudAggregator.ROLE));
            sharding.init(Entity.of(EdgeDirectory.TYPE_KEY, e -> EdgeDirectory.create()).withRole(CONTROL));
            sharding.init(Entity.of(EdgeServer.TYPE_KEY, e -> EdgeServer.create(e.getEntityId()))
                    .withRole(CONTROL));
            sharding.init(Entity.of(TrainingSession.TYPE_KEY,
                    e -> TrainingSession.create(e.getEntityId(), services)).withEntityProps(training)
                    .withRole(CONTROL));
            return new FerryNode(system, db, services);
        } catch (RuntimeException e) {
            system.terminate();
            db.close();
            throw e;
        }
    }

    /** This node's cluster address. */
    public Address address() {
        return Cluster.get(system).selfMember().address();
    }

    /**
     * Makes this node the home of an edge server: pins the edge's shard of server halves here and registers the
     * edge with this node's address, before any device of that edge starts training.
     *
     * <p>The pin travels to the shard coordinator by gossip, so both shards (server halves and round masters) are
     * also started from here at once:
     * a shard whose location the coordinator does not know yet goes to the node that asks for it. Either way
     * it lands here, and later rebalancing has nothing to move.
     */
    public CompletionStage<Done> hostEdge(String edgeId, int capacity, Duration timeout) {
        return hostEdge(edgeId, capacity, "", timeout);
    }

    /** As {@link #hostEdge(String, int, Duration)}, with the host:port of this node's device gRPC service. */
    public CompletionStage<Done> hostEdge(String edgeId, int capacity, String grpcEndpoint, Duration timeout) {
        Address self = address();
        return ExternalShardAllocation.get(system).getClient(OffloadedTraining.TYPE_KEY.name())
                .setShardLocation(edgeId, self)
                .thenCompose(d -> ExternalShardAllocation.get(system).getClient(RoundMaster.TYPE_KEY.name())
                        .setShardLocation(edgeId, self))
                .thenCompose(d -> AskPattern.<OffloadedTraining.Command, OffloadedTraining.State>ask(
                        services.offloaded("-", "-", edgeId), OffloadedTraining.Get::new, timeout,
                        system.scheduler()))
                .thenCompose(st -> AskPattern.<RoundMaster.Command, Done>ask(services.roundMaster("-", edgeId),
                        RoundMaster.Probe::new, timeout, system.scheduler()))
                .thenCompose(st -> AskPattern.<EdgeServer.Command, Done>askWithStatus(services.edge(edgeId),
                        r -> new EdgeServer.Register(self.toString(), capacity, grpcEndpoint, r), timeout, system.scheduler()))
                .thenCompose(d -> AskPattern.<EdgeDirectory.Command, Done>ask(services.edgeDirectory(),
                        r -> new EdgeDirectory.Add(edgeId, r), timeout, system.scheduler()));
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public FerryServices services() {
        return services;
    }

    public FerryDatabase database() {
        return database;
    }

    /** Leaves and stops; waits for the system to terminate before closing the database pool. */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // fall through: the pool is closed either way
        }
        services.halves().close();
        database.close();
    }
}
