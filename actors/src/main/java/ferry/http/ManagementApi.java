package ferry.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.typesafe.config.Config;
import ferry.actors.device.DataPartition;
import ferry.actors.device.Device;
import ferry.actors.device.DeviceProfile;
import ferry.actors.edge.EdgeServer;
import ferry.actors.node.FerryNode;
import ferry.actors.node.FerryServices;
import ferry.grpc.Tokens;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import ferry.actors.session.SessionSpec;
import ferry.actors.session.TrainingSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.management.cluster.javadsl.ClusterHttpManagementRoutes;
import org.apache.pekko.pattern.StatusReply;

/**
 * Ferry's management HTTP endpoint: learning tasks are submitted like functions and read back.
 *
 * <ul>
 * <li>{@code POST /tasks} a {@link TaskRequest} as JSON → 202 {@code {"taskId": ...}}</li>
 * <li>{@code GET /tasks/{id}} → the task's status, plan, rounds so far and result</li>
 * <li>{@code POST /devices} a {@link DeviceRequest} → 201: registers a simulated device and attaches it</li>
 * <li>{@code GET /devices/{id}} → a device's profile, battery and edge</li>
 * <li>{@code GET /health} → 200 while the node serves, with the cluster's members as this node sees them
 * (address, status, roles, reachable), for operators and ops/cluster; {@code GET /ready} → 200 when it is an
 * Up member and its journal answers, else 503</li>
 * <li>{@code GET /metrics} → Prometheus text: rounds, batch latency, bytes, migrations, failovers, journal lag</li>
 * <li>{@code GET /sessions}, {@code GET /sessions/{id}}, {@code POST /sessions/{id}/stop}</li>
 * <li>{@code POST /devices/{id}/move} {@code {"edge": ...}} → triggers a migration; {@code GET /edges/{id}}</li>
 * <li>{@code /cluster/...}: pekko-management's cluster routes ({@code GET /cluster/members},
 * {@code GET /cluster/members/{address}}, {@code GET /cluster/shards/{type}}; {@code POST /cluster/members}
 * {@code address=...} to join, {@code PUT /cluster/members/{address}} {@code operation=Down|Leave}) — the
 * changing ones behind the token like Ferry's own</li>
 * </ul>
 * Every bad request gets a 4xx whose JSON body says what is wrong ({@code {"error": ...}}); nothing is started
 * on one. Mutating routes need the bearer token when {@code ferry.http.token} is set.
 */
public final class ManagementApi extends AllDirectives {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private final ActorSystem<?> system;
    private final FerryServices services;
    private final String token;
    private final Duration timeout;
    private final long maxBody;

    private final DataSource journal;

    public ManagementApi(FerryNode node, Config config) {
        this.system = node.system();
        this.services = node.services();
        this.journal = node.database().dataSource();
        Config c = config.getConfig("ferry.http");
        this.token = c.getString("token");
        this.timeout = services.askTimeout();
        this.maxBody = c.getBytes("max-body");
    }

    /** Binds the routes at {@code ferry.http.host}:{@code port} (0: a free port) of the node's config. */
    public static CompletionStage<ServerBinding> bind(FerryNode node) {
        return bind(node, node.system().settings().config());
    }

    public static CompletionStage<ServerBinding> bind(FerryNode node, Config config) {
        Config c = config.getConfig("ferry.http");
        return Http.get(node.system()).newServerAt(c.getString("host"), c.getInt("port"))
                .bind(new ManagementApi(node, config).routes());
    }

    public Route routes() {
        return handleExceptions(errors(), () -> handleRejections(rejections(), () -> withSizeLimit(maxBody,
                () -> concat(
                        path("health", () -> get(() -> json(StatusCodes.OK, health()))),
                        path("ready", () -> get(this::ready)),
                        path("metrics", () -> get(this::metrics)),
                        path("sessions", () -> get(this::sessions)),
                        path(PathMatchers.segment("sessions").slash(PathMatchers.segment()).slash("stop"),
                                id -> post(() -> authorized(() -> stop(id)))),
                        path(PathMatchers.segment("sessions").slash(PathMatchers.segment()),
                                id -> get(() -> task(id))),
                        path(PathMatchers.segment("devices").slash(PathMatchers.segment()).slash("move"),
                                id -> post(() -> authorized(() -> entity(Unmarshaller.entityToString(),
                                        body -> move(id, body))))),
                        path(PathMatchers.segment("edges").slash(PathMatchers.segment()), id -> get(() -> edge(id))),
                        pathPrefix("tasks", () -> concat(
                                pathEndOrSingleSlash(() -> post(() -> authorized(() -> entity(
                                        Unmarshaller.entityToString(), this::submit)))),
                                path(PathMatchers.segment(), id -> get(() -> task(id))))),
                        path("devices", () -> post(() -> authorized(() -> entity(Unmarshaller.entityToString(),
                                this::registerDevice)))),
                        path(PathMatchers.segment("devices").slash(PathMatchers.segment()),
                                id -> get(() -> device(id))),
                        pathPrefixTest("cluster", this::clusterRoutes)))));
    }

    /** pekko-management's cluster routes: reading is open, changing membership needs the token. */
    private Route clusterRoutes() {
        org.apache.pekko.cluster.Cluster cluster = org.apache.pekko.cluster.Cluster.get(
                org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system));
        return concat(get(() -> ClusterHttpManagementRoutes.readOnly(cluster)),
                authorized(() -> ClusterHttpManagementRoutes.all(cluster)));
    }

    private Route authorized(java.util.function.Supplier<Route> inner) {
        if (token.isEmpty()) {
            return inner.get();
        }
        return optionalHeaderValueByName("Authorization", h -> h.filter(v -> v.equals("Bearer " + token)).isPresent()
                ? inner.get()
                : json(StatusCodes.UNAUTHORIZED, error(h.isPresent() ? "wrong token"
                        : "this route needs 'Authorization: Bearer <token>' (ferry.http.token)")));
    }

    private Route submit(String body) {
        TaskRequest req;
        try {
            req = JSON.readValue(body, TaskRequest.class);
        } catch (UnrecognizedPropertyException e) {
            return json(StatusCodes.BAD_REQUEST, error("unknown field '" + e.getPropertyName() + "'; known: "
                    + e.getKnownPropertyIds()));
        } catch (JsonProcessingException e) {
            return json(StatusCodes.BAD_REQUEST, error("the body is not a task in JSON: "
                    + e.getOriginalMessage()));
        }
        if (req == null) {
            return json(StatusCodes.BAD_REQUEST, error("empty body: expected a task in JSON"));
        }
        SessionSpec spec;
        try {
            spec = req.toSpec();
        } catch (IllegalArgumentException e) {
            return json(StatusCodes.BAD_REQUEST, error(e.getMessage()));
        }
        String taskId = "task-" + UUID.randomUUID().toString().substring(0, 8);
        return onSuccess(unregistered(spec.devices()), missing -> {
            if (!missing.isEmpty()) {
                return json(StatusCodes.BAD_REQUEST, error("unknown device(s) " + missing
                        + ": register them before submitting a task"));
            }
            return onSuccess(create(taskId, spec), reply -> reply.isSuccess()
                    ? json(StatusCodes.ACCEPTED, Map.of("taskId", taskId, "status", "RUNNING",
                            "progress", "/tasks/" + taskId))
                    : json(StatusCodes.BAD_REQUEST, error(reply.getError().getMessage())));
        });
    }

    /** Registers a simulated device (or changes its profile and data) and attaches it to its edge. */
    private Route registerDevice(String body) {
        DeviceRequest req;
        DeviceProfile profile;
        DataPartition partition;
        String token = null;
        try {
            req = JSON.readValue(body, DeviceRequest.class);
            if (req == null || req.id() == null || !ID.matcher(req.id()).matches()) {
                return json(StatusCodes.BAD_REQUEST, error("'id' must be 1-64 of A-Z a-z 0-9 . _ -"));
            }
            if (req.edge() == null || !ID.matcher(req.edge()).matches()) {
                return json(StatusCodes.BAD_REQUEST, error("'edge' must name the edge the device attaches to"));
            }
            profile = req.profile();
            partition = req.partition();
            if (req.isRemote()) {
                token = req.token() != null ? req.token() : Tokens.newToken();
                Tokens.check(token);
            }
        } catch (UnrecognizedPropertyException e) {
            return json(StatusCodes.BAD_REQUEST, error("unknown field '" + e.getPropertyName() + "'; known: "
                    + e.getKnownPropertyIds()));
        } catch (JsonProcessingException e) {
            return json(StatusCodes.BAD_REQUEST, error("the body is not a device in JSON: " + e.getOriginalMessage()));
        } catch (IllegalArgumentException e) {
            return json(StatusCodes.BAD_REQUEST, error(e.getMessage()));
        }
        String hash = token == null ? null : Tokens.hash(token);
        boolean madeToken = token != null && req.token() == null;
        String shown = token;
        CompletionStage<StatusReply<Done>> done = AskPattern.<Device.Command, StatusReply<Done>>ask(
                        services.device(req.id()), r -> new Device.Register(profile, partition, hash, r), timeout,
                        system.scheduler())
                .thenCompose(reg -> reg.isError() ? CompletableFuture.completedFuture(reg)
                        : AskPattern.<Device.Command, StatusReply<Done>>ask(services.device(req.id()),
                                r -> new Device.AttachTo(req.edge(), r), timeout, system.scheduler()));
        return onSuccess(done, reply -> {
            if (!reply.isSuccess()) {
                return json(StatusCodes.BAD_REQUEST, error(reply.getError().getMessage()));
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("deviceId", req.id());
            out.put("edge", req.edge());
            if (req.isRemote()) {
                out.put("remote", true);
                if (madeToken) {
                    out.put("token", shown); // shown once: only its hash is kept
                }
            }
            return json(StatusCodes.CREATED, out);
        });
    }

    /** Ready when this node is an Up member of the cluster and its journal answers. */
    private Route ready() {
        MemberStatus status = Cluster.get(system).selfMember().status();
        if (status != MemberStatus.up()) {
            return json(StatusCodes.SERVICE_UNAVAILABLE, error("this node is " + status + " in the cluster"));
        }
        try (Connection c = journal.getConnection()) {
            if (!c.isValid(2)) {
                return json(StatusCodes.SERVICE_UNAVAILABLE, error("the journal does not answer"));
            }
        } catch (SQLException e) {
            return json(StatusCodes.SERVICE_UNAVAILABLE, error("the journal does not answer: " + e.getMessage()));
        }
        return json(StatusCodes.OK, Map.of("status", "ready", "member", Cluster.get(system).selfMember().address()
                .toString()));
    }

    private Route metrics() {
        double lag = Double.NaN;
        try (Connection c = journal.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT MAX(write_timestamp) FROM event_journal");
             ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getObject(1) != null) {
                lag = Math.max(0, (System.currentTimeMillis() - rs.getLong(1)) / 1000.0);
            }
        } catch (SQLException e) {
            system.log().warn("metrics: cannot read the journal's newest write: " + e.getMessage());
        }
        return complete(HttpResponse.create().withEntity(ContentTypes.TEXT_PLAIN_UTF8,
                services.metrics().render(lag)));
    }

    /** Every session the journal knows, with its status. */
    private Route sessions() {
        List<String> ids = new ArrayList<>();
        try (Connection c = journal.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT DISTINCT persistence_id FROM event_journal "
                     + "WHERE persistence_id LIKE ? ORDER BY persistence_id")) {
            ps.setString(1, TrainingSession.TYPE_KEY.name() + "|%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next() && ids.size() < 1000) {
                    String pid = rs.getString(1);
                    ids.add(pid.substring(pid.indexOf('|') + 1));
                }
            }
        } catch (SQLException e) {
            return json(StatusCodes.SERVICE_UNAVAILABLE, error("cannot read the journal: " + e.getMessage()));
        }
        List<CompletableFuture<TrainingSession.State>> states = new ArrayList<>();
        for (String id : ids) {
            states.add(AskPattern.<TrainingSession.Command, TrainingSession.State>ask(services.session(id),
                    TrainingSession.Get::new, timeout, system.scheduler()).toCompletableFuture());
        }
        return onSuccess(CompletableFuture.allOf(states.toArray(CompletableFuture[]::new)), x -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (CompletableFuture<TrainingSession.State> f : states) {
                TrainingSession.State st = f.join();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", st.sessionId());
                m.put("status", st.status().name());
                m.put("algorithm", st.spec() == null ? null : st.spec().algorithm());
                m.put("round", st.round());
                m.put("rounds", st.spec() == null ? 0 : st.spec().rounds());
                m.put("lastTestAccuracy", st.history().isEmpty() ? null
                        : st.history().get(st.history().size() - 1).testAccuracy());
                out.add(m);
            }
            return json(StatusCodes.OK, out);
        });
    }

    private Route stop(String id) {
        if (!ID.matcher(id).matches()) {
            return json(StatusCodes.BAD_REQUEST, error("'" + id + "' is not a session id"));
        }
        return onSuccess(AskPattern.<TrainingSession.Command, StatusReply<Done>>ask(services.session(id),
                r -> new TrainingSession.Stop("by an operator over HTTP", r), timeout, system.scheduler()),
                r -> r.isSuccess() ? json(StatusCodes.OK, Map.of("id", id, "status", "STOPPED"))
                        : json(r.getError().getMessage().startsWith("no session") ? StatusCodes.NOT_FOUND
                                : StatusCodes.CONFLICT, error(r.getError().getMessage())));
    }

    /** Triggers a migration: {"edge": "edge-2"}. A refused move answers 409 and the device trains on. */
    private Route move(String id, String body) {
        String edge;
        try {
            var tree = JSON.readTree(body);
            edge = tree == null ? null : tree.path("edge").asText(null);
        } catch (JsonProcessingException e) {
            return json(StatusCodes.BAD_REQUEST, error("the body is not JSON: " + e.getOriginalMessage()));
        }
        if (!ID.matcher(id).matches() || edge == null || !ID.matcher(edge).matches()) {
            return json(StatusCodes.BAD_REQUEST, error("a move needs a device id in the path and {\"edge\": ID}"));
        }
        return onSuccess(AskPattern.<Device.Command, Device.State>ask(services.device(id), Device.Get::new, timeout,
                system.scheduler()), st -> !st.registered() ? json(StatusCodes.NOT_FOUND, error("no device '" + id
                + "'")) : onSuccess(AskPattern.<Device.Command, StatusReply<Done>>ask(services.device(id),
                        r -> new Device.MoveTo(edge, r), timeout, system.scheduler()),
                r -> r.isSuccess() ? json(StatusCodes.OK, Map.of("deviceId", id, "edge", edge))
                        : json(StatusCodes.CONFLICT, error(r.getError().getMessage()))));
    }

    private Route edge(String id) {
        if (!ID.matcher(id).matches()) {
            return json(StatusCodes.BAD_REQUEST, error("'" + id + "' is not an edge id"));
        }
        return onSuccess(AskPattern.<EdgeServer.Command, EdgeServer.State>ask(services.edge(id), EdgeServer.Get::new,
                timeout, system.scheduler()), s -> s.registered() ? json(StatusCodes.OK, s)
                : json(StatusCodes.NOT_FOUND, error("no edge '" + id + "'")));
    }

    private CompletionStage<List<String>> unregistered(List<String> devices) {
        for (String d : devices) {
            if (!ID.matcher(d).matches()) {
                return CompletableFuture.completedFuture(List.of(d));
            }
        }
        return services.deviceStates(devices, system.scheduler()).thenApply(states -> states.entrySet().stream()
                .filter(e -> !e.getValue().registered()).map(Map.Entry::getKey).toList());
    }

    private CompletionStage<StatusReply<Done>> create(String id, SessionSpec spec) {
        return AskPattern.<TrainingSession.Command, StatusReply<Done>>ask(services.session(id),
                r -> new TrainingSession.Create(spec, r), timeout, system.scheduler());
    }

    private Route task(String id) {
        if (!ID.matcher(id).matches()) {
            return json(StatusCodes.BAD_REQUEST, error("'" + id + "' is not a task id"));
        }
        return onSuccess(AskPattern.<TrainingSession.Command, TrainingSession.State>ask(services.session(id),
                TrainingSession.Get::new, timeout, system.scheduler()), s -> s.status() == TrainingSession.Status.NEW
                ? json(StatusCodes.NOT_FOUND, error("no task '" + id + "'"))
                : json(StatusCodes.OK, TaskView.of(s)));
    }

    private Route device(String id) {
        if (!ID.matcher(id).matches()) {
            return json(StatusCodes.BAD_REQUEST, error("'" + id + "' is not a device id"));
        }
        return onSuccess(AskPattern.<Device.Command, Device.State>ask(services.device(id), Device.Get::new, timeout,
                system.scheduler()), s -> s.registered() ? json(StatusCodes.OK, view(s))
                : json(StatusCodes.NOT_FOUND, error("no device '" + id + "'")));
    }

    /** A device's state as shown over HTTP: its token's hash stays inside the cluster. */
    private static Map<String, Object> view(Device.State s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("deviceId", s.deviceId());
        m.put("profile", s.profile());
        m.put("data", s.data());
        m.put("edgeId", s.edgeId());
        m.put("batteryJoules", s.batteryJoules());
        m.put("remote", s.remote());
        return m;
    }

    private static Map<String, Object> error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        return m;
    }

    /** {"status": "ok", "members": [{"address", "status", "roles", "reachable"}...]}, members by address. */
    private Map<String, Object> health() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok");
        if (!"cluster".equals(system.settings().config().getString("pekko.actor.provider"))) {
            return body;
        }
        ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
        Set<Member> unreachable = state.getUnreachable();
        List<Map<String, Object>> members = new ArrayList<>();
        for (Member m : state.getMembers()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("address", m.address().toString());
            one.put("status", m.status().toString());
            one.put("roles", new TreeSet<>(m.getRoles()).stream()
                    .filter(r -> !r.startsWith("dc-")).toList());
            one.put("reachable", !unreachable.contains(m));
            members.add(one);
        }
        body.put("members", members);
        return body;
    }

    private Route json(StatusCode status, Object body) {
        try {
            return complete(HttpResponse.create().withStatus(status)
                    .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(body)));
        } catch (JsonProcessingException e) {
            return complete(StatusCodes.INTERNAL_SERVER_ERROR, "cannot render the answer: " + e.getMessage());
        }
    }

    /** A failed ask or a bug answers 503 / 500 with a message; the node keeps serving. */
    private ExceptionHandler errors() {
        return ExceptionHandler.newBuilder()
                .match(java.util.concurrent.TimeoutException.class, e -> json(StatusCodes.SERVICE_UNAVAILABLE,
                        error("the cluster did not answer in time: " + e.getMessage())))
                .match(RuntimeException.class, e -> {
                    system.log().error("management API: " + e, e);
                    return json(StatusCodes.INTERNAL_SERVER_ERROR, error(String.valueOf(e.getMessage())));
                })
                .build();
    }

    /** Unmatched paths and methods, oversize bodies: pekko-http's message, as JSON. */
    private RejectionHandler rejections() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(r -> {
            if (r.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict
                    && !strict.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                String msg = strict.getData().utf8String();
                try {
                    return r.withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(error(msg)));
                } catch (JsonProcessingException e) {
                    return r;
                }
            }
            return r;
        });
    }
}
