package ferry.zoo.tensor;

/** A tensor whose bytes, shape or values cannot be used; the message says what was expected. */
public class MalformedTensorException extends IllegalArgumentException {
    public MalformedTensorException(String message) {
        super(message);
    }
}
