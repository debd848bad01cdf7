package ferry.actors.cloud;

import ferry.actors.node.FerryServices;
import ferry.actors.node.ModelBlobs;
import ferry.persistence.CborSerializable;
import ferry.persistence.ModelRef;
import ferry.zoo.train.FedAvg;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;

/**
 * The top of hierarchical FedAvg, on a node with the {@code cloud} role (entity id: the session): each edge has
 * averaged its own devices' models (weighted by their samples, see {@code RoundMaster.AggregateEdge}); this
 * averages the edges' models, weighted by the samples behind each, which is the flat FedAvg of every device,
 * computed where the data of many edges meets. Holds nothing between rounds: models live in the blob store.
 */
public final class CloudAggregator extends AbstractBehavior<CloudAggregator.Command> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "CloudAggregator");
    public static final String ROLE = "cloud";

    public sealed interface Command extends CborSerializable {}

    /** One device's trained model (its parts, joined in canonical order) and how many samples made it. */
    public record Contribution(String deviceId, List<ModelRef> parts, long samples) implements CborSerializable {}

    /** An edge's average of its devices. */
    public record EdgeModel(String edgeId, ModelRef model, long samples) implements CborSerializable {}

    /** The round's global model, and the node that made it. */
    public record Result(ModelRef model, String aggregatedAt) implements CborSerializable {}

    public record Aggregate(int round, List<EdgeModel> edges, ActorRef<StatusReply<Result>> replyTo)
            implements Command {}

    private final FerryServices services;

    private CloudAggregator(ActorContext<Command> ctx, FerryServices services) {
        super(ctx);
        this.services = services;
    }

    public static Behavior<Command> create(FerryServices services) {
        return Behaviors.setup(ctx -> new CloudAggregator(ctx, services));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(Aggregate.class, this::onAggregate).build();
    }

    private Behavior<Command> onAggregate(Aggregate c) {
        try {
            List<EdgeModel> edges = c.edges().stream().map(e -> new EdgeModel(e.edgeId(), e.model(), e.samples()))
                    .toList();
            ModelRef global = average(services, edges.stream()
                    .map(e -> new Contribution(e.edgeId(), List.of(e.model()), e.samples())).toList());
            c.replyTo().tell(StatusReply.success(new Result(global,
                    Cluster.get(getContext().getSystem()).selfMember().address().toString())));
        } catch (RuntimeException e) {
            c.replyTo().tell(StatusReply.error("the cloud cannot aggregate round " + c.round() + ": "
                    + e.getMessage()));
        }
        return this;
    }

    /** FedAvg of the contributions' joined models, weighted by samples, stored; blocking. */
    public static ModelRef average(FerryServices services, List<Contribution> contributions) {
        if (contributions.isEmpty()) {
            throw new IllegalArgumentException("nothing to aggregate");
        }
        List<FedAvg.Contribution> models = new ArrayList<>();
        for (Contribution c : contributions) {
            models.add(new FedAvg.Contribution(ModelBlobs.join(services.blobs(), c.parts()), c.samples()));
        }
        return ModelBlobs.putWeights(services.blobs(), FedAvg.average(models));
    }
}
