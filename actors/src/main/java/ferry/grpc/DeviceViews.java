package ferry.grpc;

import ferry.actors.device.Device;
import ferry.actors.device.RemoteTraining;
import ferry.actors.edge.EdgeServer;
import ferry.actors.node.FerryServices;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * What the edge service knows of the devices that call it: each device's registration (its token's hash) and
 * the round it trains, asked from its {@link Device} entity and kept for {@code view-ttl}, so a step costs no
 * round trip to the control node. A caller that finds the cached round out of date asks for a fresh one
 * ({@link #refresh}). Also the gRPC endpoints of edges, for redirects.
 */
final class DeviceViews {
    static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** An unknown id is remembered briefly (a device registered just now is found within this). */
    private static final Duration UNKNOWN_TTL = Duration.ofSeconds(2);
    /** Past this many cached views (made-up ids), the cache starts over rather than grow. */
    private static final int MAX_VIEWS = 100_000;

    private record Cached(RemoteTraining.View view, long at) {}

    private final ActorSystem<?> system;
    private final FerryServices services;
    private final Duration ttl;
    private final Map<String, Cached> views = new ConcurrentHashMap<>();
    private final Map<String, String> endpoints = new ConcurrentHashMap<>();

    DeviceViews(ActorSystem<?> system, FerryServices services, Duration ttl) {
        this.system = system;
        this.services = services;
        this.ttl = ttl;
    }

    /**
     * The device's view once its id and token check out; else a refusal: INVALID_ARGUMENT for a malformed id,
     * NOT_FOUND for an unknown device, UNAUTHENTICATED for a missing or wrong token, FAILED_PRECONDITION for a
     * simulated device (it has no gRPC access).
     */
    CompletionStage<RemoteTraining.View> authenticate(String deviceId, String authorization) {
        if (deviceId == null || !ID.matcher(deviceId).matches()) {
            return Refusals.failed(Refusals.invalid("device_id must be 1-64 of A-Z a-z 0-9 . _ -, got '"
                    + (deviceId == null ? "" : deviceId.length() > 80 ? deviceId.substring(0, 80) + "..." : deviceId)
                    + "'"));
        }
        String token = bearer(authorization);
        if (token == null) {
            return Refusals.failed(Refusals.unauthenticated("every call needs the metadata 'authorization: Bearer "
                    + "<device token>'"));
        }
        Cached c = views.get(deviceId);
        long fresh = c == null ? 0 : c.view().registered() ? ttl.toNanos() : UNKNOWN_TTL.toNanos();
        CompletionStage<RemoteTraining.View> view = c != null && System.nanoTime() - c.at() < fresh
                ? CompletableFuture.completedFuture(c.view()) : refresh(deviceId);
        return view.thenApply(v -> {
            if (!v.registered()) {
                throw Refusals.notFound("no device '" + deviceId + "' is registered");
            }
            if (!v.remote()) {
                throw Refusals.precondition("device '" + deviceId + "' is simulated inside the cluster; only devices "
                        + "registered as remote train over gRPC");
            }
            if (!Tokens.matches(token, v.tokenHash())) {
                throw Refusals.unauthenticated("wrong token for device '" + deviceId + "'");
            }
            return v;
        });
    }

    /** Asks the device's entity for its view now, and caches it. */
    CompletionStage<RemoteTraining.View> refresh(String deviceId) {
        return AskPattern.<Device.Command, RemoteTraining.View>ask(services.device(deviceId),
                r -> new Device.Remote(new RemoteTraining.GetView(r)), services.askTimeout(), system.scheduler())
                .thenApply(v -> {
                    if (views.size() >= MAX_VIEWS) {
                        views.clear();
                    }
                    views.put(deviceId, new Cached(v, System.nanoTime()));
                    return v;
                });
    }

    /** The gRPC endpoint (host:port) of an edge, from its registration; empty when it serves none. */
    CompletionStage<String> endpoint(String edgeId) {
        String known = endpoints.get(edgeId);
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        return AskPattern.<EdgeServer.Command, EdgeServer.State>ask(services.edge(edgeId), EdgeServer.Get::new,
                services.askTimeout(), system.scheduler()).thenApply(s -> {
                    if (!s.grpcEndpoint().isEmpty()) {
                        endpoints.put(edgeId, s.grpcEndpoint());
                    }
                    return s.grpcEndpoint();
                });
    }

    private static String bearer(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return null;
        }
        String t = authorization.substring(7).trim();
        return t.isEmpty() ? null : t;
    }
}
