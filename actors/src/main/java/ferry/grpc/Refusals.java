package ferry.grpc;

import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.GrpcServiceException;

/** gRPC statuses with a message that says what was wrong; every refusal of the edge service is one of these. */
final class Refusals {
    private Refusals() {}

    static GrpcServiceException invalid(String message) {
        return of(Status.INVALID_ARGUMENT, message);
    }

    static GrpcServiceException notFound(String message) {
        return of(Status.NOT_FOUND, message);
    }

    static GrpcServiceException unauthenticated(String message) {
        return of(Status.UNAUTHENTICATED, message);
    }

    static GrpcServiceException precondition(String message) {
        return of(Status.FAILED_PRECONDITION, message);
    }

    static GrpcServiceException tooLarge(String message) {
        return of(Status.RESOURCE_EXHAUSTED, message);
    }

    static GrpcServiceException unavailable(String message) {
        return of(Status.UNAVAILABLE, message);
    }

    static GrpcServiceException of(Status status, String message) {
        return new GrpcServiceException(status.withDescription(message));
    }

    static <T> CompletionStage<T> failed(Throwable t) {
        return CompletableFuture.failedFuture(t);
    }
}
