package ferry.actors.node;

import ferry.actors.edge.OffloadedTraining;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;

/** Shards server-side entities by edge (the id's last "~" part): an edge's server halves share its shard. */
final class EdgeShards<M> extends ShardingMessageExtractor<ShardingEnvelope<M>, M> {
    @Override
    public String entityId(ShardingEnvelope<M> envelope) {
        return envelope.entityId();
    }

    @Override
    public String shardId(String entityId) {
        return OffloadedTraining.edgeOf(entityId);
    }

    @Override
    public M unwrapMessage(ShardingEnvelope<M> envelope) {
        return envelope.message();
    }
}
