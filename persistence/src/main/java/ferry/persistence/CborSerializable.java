package ferry.persistence;

/**
 * Marker for every message, event and state that crosses the wire or enters the journal: bound to Pekko's
 * jackson-cbor serializer in serialization.conf. Java serialization is off.
 */
public interface CborSerializable {}
