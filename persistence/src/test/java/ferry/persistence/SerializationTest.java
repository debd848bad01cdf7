package ferry.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CborSerializable records go through jackson-cbor; anything unmarked fails instead of using Java serialization. */
class SerializationTest {
    /** The shapes Ferry's events take. */
    record Trained(String session, int round, ModelRef model, List<Double> losses, Optional<String> note)
            implements CborSerializable {}

    record Single(long value) implements CborSerializable {}

    record Nothing() implements CborSerializable {}

    record Unmarked(int x) {}

    record SerializableButUnmarked(int x) implements java.io.Serializable {}

    /** Same fields as ModelRef, none of its checks: writes what a corrupted or forged ModelRef would look like. */
    record LooseRef(String sha256, long size) implements CborSerializable {}

    static ActorTestKit kit;
    static Serialization serialization;

    @BeforeAll
    static void start(@TempDir Path tmp) {
        // No persistent actor is started, so the database is never opened.
        kit = ActorTestKit.create("serialization", TestBackend.h2Config(tmp));
        serialization = SerializationExtension.get(kit.system().classicSystem());
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static final ModelRef REF = new ModelRef("ab".repeat(32), 1234);

    @Test
    void markedRecordsUseJacksonCborAndRoundTrip() {
        Trained t = new Trained("s1", 3, REF, List.of(0.5, 0.25), Optional.of("fine"));
        Serializer s = serialization.findSerializerFor(t);
        assertInstanceOf(JacksonCborSerializer.class, s);
        assertEquals(33, s.identifier());
        byte[] bytes = serialization.serialize(t).get();
        // Not a Java serialization stream (those start with 0xACED).
        assertTrue(bytes.length < 2 || !(bytes[0] == (byte) 0xAC && bytes[1] == (byte) 0xED));
        Object back = serialization.deserialize(bytes, s.identifier(), Serializers.manifestFor(s, t)).get();
        assertEquals(t, back);

        SerializationTestKit testKit = new SerializationTestKit(kit.system());
        testKit.verifySerialization(new Trained("s2", 0, null, List.of(), Optional.empty()), true);
        testKit.verifySerialization(new Single(42L), true); // one-field record: properties, not delegating
        testKit.verifySerialization(new Nothing(), true);
        testKit.verifySerialization(REF, true);
        testKit.verifySerialization(Counter.State.empty().add(new Counter.Added(2, REF)), true);
        testKit.verifySerialization(new Counter.Renamed("x"), true);
    }

    @Test
    void modelRefChecksItsInvariantsWhenRead() {
        Serializer s = serialization.findSerializerFor(REF);
        byte[] forged = serialization.serialize(new LooseRef("not-a-hash", 5)).get();
        Exception e = assertThrows(Exception.class,
                () -> serialization.deserialize(forged, s.identifier(), ModelRef.class.getName()).get());
        assertTrue(String.valueOf(rootCause(e).getMessage()).contains("64-hex-digit"), e.toString());
    }

    @Test
    void unmarkedObjectsFailInsteadOfFallingBackToJavaSerialization() {
        assertTrue(serialization.serialize(new Unmarked(1)).isFailure());
        Exception plain = assertThrows(Exception.class, () -> serialization.serialize(new Unmarked(1)).get());
        assertTrue(plain.getMessage().contains("No configured serialization-bindings"), plain.getMessage());

        // A java.io.Serializable object reaches Pekko's disabled Java serializer, which refuses it.
        Serializer s = serialization.findSerializerFor(new SerializableButUnmarked(1));
        assertNotEquals("org.apache.pekko.serialization.JavaSerializer", s.getClass().getName());
        Exception java = assertThrows(Exception.class,
                () -> serialization.serialize(new SerializableButUnmarked(1)).get());
        assertTrue(java.getMessage().contains("Java serialization") || java.toString().contains("Disabled"),
                java.toString());
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
