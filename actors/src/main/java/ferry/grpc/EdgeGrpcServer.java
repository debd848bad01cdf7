package ferry.grpc;

import ferry.actors.node.FerryNode;
import ferry.grpc.proto.EdgeServicePowerApiHandlerFactory;
import java.util.Collection;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ServerSettings;

/**
 * Serves a node's device data plane: {@link EdgeGrpcService} over HTTP/2, with TLS unless plaintext was asked
 * for. The bound endpoint (or the configured {@code advertise}) is what the node's edges register, so that
 * assignments and redirects can name it.
 */
public final class EdgeGrpcServer {
    /** A running service: its binding and the endpoint devices are told to use. */
    public record Running(EdgeGrpcService service, ServerBinding binding, String endpoint) {
        public int port() {
            return binding.localAddress().getPort();
        }
    }

    private EdgeGrpcServer() {}

    public static CompletionStage<Running> start(FerryNode node, GrpcSettings s, Collection<String> edges) {
        EdgeGrpcService service = new EdgeGrpcService(node.system(), node.services(), s, edges);
        ServerSettings http = ServerSettings.create(node.system().classicSystem()).withEnableHttp2(true);
        http = http.withParserSettings(http.getParserSettings().withMaxContentLength(s.maxRequestBytes()));
        ServerBuilder b = Http.get(node.system()).newServerAt(s.host(), s.port()).withSettings(http);
        if (!s.plaintext()) {
            b = b.enableHttps(ConnectionContext.httpsServer(Tls.server(s.cert(), s.key())));
        }
        var handler = EdgeServicePowerApiHandlerFactory.create(service, node.system());
        // Tensors are float bytes that barely compress, yet pekko-grpc gzips every answer to a client that
        // accepts gzip (grpc-java clients do): deflating a 1.25 MB gradient cost ~50 ms a step here, more than
        // the edge's training. The edge answers uncompressed, whatever the client offers.
        org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> uncompressed =
                request -> handler.apply(request.removeHeader("grpc-accept-encoding"));
        return b.bind(uncompressed).thenApply(binding -> {
            String ep = s.advertise().isBlank() ? s.host() + ":" + binding.localAddress().getPort() : s.advertise();
            service.endpoint(ep);
            return new Running(service, binding, ep);
        });
    }
}
