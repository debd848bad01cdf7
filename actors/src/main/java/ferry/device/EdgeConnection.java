package ferry.device;

import ferry.grpc.Tls;
import ferry.grpc.proto.Assignment;
import ferry.grpc.proto.AttachReply;
import ferry.grpc.proto.AttachRequest;
import ferry.grpc.proto.DetachReply;
import ferry.grpc.proto.DetachRequest;
import ferry.grpc.proto.EdgeServiceClient;
import ferry.grpc.proto.ModelChunk;
import ferry.grpc.proto.NextRoundRequest;
import ferry.grpc.proto.PullRequest;
import ferry.grpc.proto.PushChunk;
import ferry.grpc.proto.PushHeader;
import ferry.grpc.proto.PushReply;
import ferry.grpc.proto.StepReply;
import ferry.grpc.proto.StepRequest;
import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.grpc.GrpcClientSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A device's connection to one edge's gRPC endpoint: every call carries the device's token. TLS unless the
 * credentials say plaintext ({@code caPem} null); the device trusts only the cluster's CA. The underlying channel
 * reconnects by itself; a call that fails while it does ends with UNAVAILABLE, which callers retry.
 */
public final class EdgeConnection implements AutoCloseable {
    /** Who the device is, its token, and the CA certificate it trusts (null: plaintext). */
    public record Credentials(String deviceId, String token, Path caPem) {}

    private static final int CHUNK = 256 * 1024;

    private final ClassicActorSystemProvider system;
    private final EdgeServiceClient client;
    private final Credentials creds;
    private final String endpoint;
    private final String bearer;

    public EdgeConnection(ClassicActorSystemProvider system, String endpoint, Credentials creds) {
        int colon = endpoint.lastIndexOf(':');
        if (colon < 1) {
            throw new IllegalArgumentException("an edge endpoint is host:port, got '" + endpoint + "'");
        }
        int port;
        try {
            port = Integer.parseInt(endpoint.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("an edge endpoint is host:port, got '" + endpoint + "'");
        }
        GrpcClientSettings s = GrpcClientSettings.connectToServiceAt(endpoint.substring(0, colon), port, system)
                .withTls(creds.caPem() != null);
        if (creds.caPem() != null) {
            s = s.withTrustManager(Tls.trusting(creds.caPem()));
        }
        this.system = system;
        this.client = EdgeServiceClient.create(s, system);
        this.creds = creds;
        this.endpoint = endpoint;
        this.bearer = "Bearer " + creds.token();
    }

    public String endpoint() {
        return endpoint;
    }

    public CompletionStage<AttachReply> attach(String edgeId) {
        return client.attach().addHeader("authorization", bearer).invoke(AttachRequest.newBuilder()
                .setDeviceId(creds.deviceId()).setEdgeId(edgeId == null ? "" : edgeId).build());
    }

    public CompletionStage<DetachReply> detach() {
        return client.detach().addHeader("authorization", bearer).invoke(DetachRequest.newBuilder()
                .setDeviceId(creds.deviceId()).build());
    }

    public CompletionStage<Assignment> nextRound(int waitMillis) {
        return client.nextRound().addHeader("authorization", bearer).invoke(NextRoundRequest.newBuilder()
                .setDeviceId(creds.deviceId()).setWaitMillis(waitMillis).build());
    }

    /** The device's part of the assignment's global model (or the whole of it), in model-state bytes. */
    public CompletionStage<byte[]> pull(Assignment a, boolean whole) {
        Source<ModelChunk, ?> chunks = client.pullModel().addHeader("authorization", bearer).invoke(
                PullRequest.newBuilder().setDeviceId(creds.deviceId()).setSessionId(a.getSessionId())
                        .setRound(a.getRound()).setAttempt(a.getAttempt()).setWhole(whole).build());
        return chunks.runWith(Sink.fold(new ByteArrayOutputStream(), (out, c) -> {
            byte[] b = c.getData().toByteArray();
            out.write(b, 0, b.length);
            return out;
        }), system).thenApply(ByteArrayOutputStream::toByteArray);
    }

    public CompletionStage<StepReply> step(StepRequest req, boolean parallel) {
        return parallel ? client.epslStep().addHeader("authorization", bearer).invoke(req)
                : client.step().addHeader("authorization", bearer).invoke(req);
    }

    /** Opens a stream of steps (split rounds): one request at a time, answered before the next is sent. */
    public StepStream openSteps() {
        Pair<SourceQueueWithComplete<StepRequest>, Source<StepRequest, NotUsed>> requests =
                Source.<StepRequest>queue(1, OverflowStrategy.backpressure()).preMaterialize(system);
        SinkQueueWithCancel<StepReply> replies = client.stepStream().addHeader("authorization", bearer)
                .invoke(requests.second()).runWith(Sink.queue(), system);
        return new StepStream(requests.first(), replies);
    }

    /**
     * A device's open stream of steps. Once it failed (the edge refused a step, or the connection went), it stays
     * failed: open another.
     */
    public static final class StepStream implements AutoCloseable {
        private final SourceQueueWithComplete<StepRequest> requests;
        private final SinkQueueWithCancel<StepReply> replies;

        StepStream(SourceQueueWithComplete<StepRequest> requests, SinkQueueWithCancel<StepReply> replies) {
            this.requests = requests;
            this.replies = replies;
        }

        /** Sends one step and completes with its answer, or fails with the status the stream ended with. */
        public CompletionStage<StepReply> step(StepRequest req) {
            return requests.offer(req).thenCompose(offered -> {
                if (offered != QueueOfferResult.enqueued()) {
                    return replies.pull().thenApply(r -> {
                        throw new StatusRuntimeException(Status.UNAVAILABLE.withDescription(
                                "the step stream is closed (" + offered + ")"));
                    });
                }
                return replies.pull().thenApply(r -> r.orElseThrow(() -> new StatusRuntimeException(
                        Status.UNAVAILABLE.withDescription("the edge ended the step stream"))));
            });
        }

        @Override
        public void close() {
            requests.complete();
            replies.cancel();
        }
    }

    /** Pushes trained weights: the header (its total_bytes set here), then the bytes in chunks. */
    public CompletionStage<PushReply> push(PushHeader header, byte[] weights) {
        List<PushChunk> chunks = new ArrayList<>();
        chunks.add(PushChunk.newBuilder().setHeader(header.toBuilder().setTotalBytes(weights.length)).build());
        for (int at = 0; at < weights.length; at += CHUNK) {
            chunks.add(PushChunk.newBuilder().setData(ByteString.copyFrom(weights, at,
                    Math.min(CHUNK, weights.length - at))).build());
        }
        return client.pushModel().addHeader("authorization", bearer).invoke(Source.from(chunks));
    }

    @Override
    public void close() {
        client.close();
    }
}
