package ferry.grpc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Per-device tokens: 256 random bits, base64url. The cluster keeps only their SHA-256 (with the device's
 * registration); a device shows the token itself on every gRPC call.
 */
public final class Tokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    public static String newToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** SHA-256 of the token's UTF-8 bytes, lower-case hex. */
    public static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    /** Whether {@code token} hashes to {@code hash}, compared in constant time. */
    public static boolean matches(String token, String hash) {
        return hash != null && MessageDigest.isEqual(hash(token).getBytes(StandardCharsets.US_ASCII),
                hash.getBytes(StandardCharsets.US_ASCII));
    }

    /** Tokens are at least 16 characters of base64url (a token chosen by an operator included). */
    public static void check(String token) {
        if (token == null || !token.matches("[A-Za-z0-9_-]{16,256}")) {
            throw new IllegalArgumentException("a device token must be 16-256 characters of A-Z a-z 0-9 _ -");
        }
    }
}
