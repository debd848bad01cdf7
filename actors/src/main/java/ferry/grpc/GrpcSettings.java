package ferry.grpc;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The edge's gRPC settings ({@code ferry.grpc} in cluster-config/grpc.conf).
 *
 * @param advertise host:port devices reach this node at (empty: host:port as bound)
 * @param cert      PEM certificate chain of the server (TLS); null in plaintext mode
 * @param key       PEM PKCS#8 private key of the server (TLS); null in plaintext mode
 */
public record GrpcSettings(String host, int port, String advertise, Path cert, Path key, boolean plaintext,
                           int maxPayloadBytes, int maxModelBytes, int modelChunkBytes, long maxRequestBytes,
                           Duration maxWait, Duration viewTtl) {

    public GrpcSettings {
        if (!plaintext && (cert == null || key == null)) {
            throw new IllegalArgumentException("the gRPC service needs a certificate and its key (ferry.grpc.cert and "
                    + "ferry.grpc.key, or --grpc-cert / --grpc-key; ops/gen-certs makes them), or plaintext mode "
                    + "asked for explicitly (--grpc-plaintext true)");
        }
    }

    public static GrpcSettings fromConfig(Config config) {
        Config c = config.getConfig("ferry.grpc");
        boolean plaintext = c.getBoolean("plaintext");
        return new GrpcSettings(c.getString("host"), c.getInt("port"), c.getString("advertise"),
                path(c.getString("cert")), path(c.getString("key")), plaintext,
                Math.toIntExact(c.getBytes("max-payload-bytes")), Math.toIntExact(c.getBytes("max-model-bytes")),
                Math.toIntExact(c.getBytes("model-chunk-bytes")), c.getBytes("max-request-bytes"),
                c.getDuration("max-wait"),
                c.getDuration("view-ttl"));
    }

    private static Path path(String s) {
        return s == null || s.isBlank() ? null : Path.of(s);
    }
}
