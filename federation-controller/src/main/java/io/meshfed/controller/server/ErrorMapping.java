package io.meshfed.controller.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.meshfed.controller.errors.DomainException;
import io.meshfed.controller.errors.ErrorCode;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.StoreException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one translation of failures to the transports: a {@link DomainException} to a gRPC status with its message as
 * description, and any status to an HTTP status with the JSON body {@code {"code": <gRPC code>, "error": <message>}}.
 *
 * <table>
 * <caption>Domain errors</caption>
 * <tr><th>ErrorCode</th><th>gRPC</th><th>HTTP</th></tr>
 * <tr><td>INVALID_ARGUMENT</td><td>INVALID_ARGUMENT</td><td>400</td></tr>
 * <tr><td>NOT_FOUND</td><td>NOT_FOUND</td><td>404</td></tr>
 * <tr><td>ALREADY_EXISTS</td><td>ALREADY_EXISTS</td><td>409</td></tr>
 * <tr><td>CONFLICT</td><td>FAILED_PRECONDITION</td><td>409</td></tr>
 * <tr><td>FAILED_PRECONDITION</td><td>FAILED_PRECONDITION</td><td>412</td></tr>
 * <tr><td>UNAVAILABLE</td><td>UNAVAILABLE</td><td>503</td></tr>
 * </table>
 *
 * <p>The store's failures: a compare-and-set race ({@link ConflictException}) is ABORTED (409; send the request
 * again), a store that cannot work ({@link StoreException}) UNAVAILABLE (503). A status already made by gRPC code
 * passes unchanged. Anything else (a {@code CaException}, a bug) is INTERNAL (500) with a short message pointing to
 * the controller's log, where it is logged once with its stack; its message is not sent, as it may name internals.
 */
public final class ErrorMapping {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapping.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorMapping() {}

    /** The gRPC code of a kind of domain failure. */
    public static Status.Code grpcCode(ErrorCode code) {
        return switch (code) {
            case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
            case CONFLICT, FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
            case UNAVAILABLE -> Status.Code.UNAVAILABLE;
        };
    }

    /** The HTTP status of a kind of domain failure. */
    public static int httpStatus(ErrorCode code) {
        return switch (code) {
            case INVALID_ARGUMENT -> 400;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, CONFLICT -> 409;
            case FAILED_PRECONDITION -> 412;
            case UNAVAILABLE -> 503;
        };
    }

    /**
     * The HTTP status of a gRPC status: the domain table when the status was made from a {@link DomainException}
     * (its cause, which stays with the status in process), else by gRPC code. UNAUTHENTICATED is 403, as the
     * credential is a TLS client certificate: HTTP's 401 asks for an {@code Authorization} scheme there is none of.
     */
    public static int httpStatus(Status status) {
        if (status.getCause() instanceof DomainException e) {
            return httpStatus(e.code());
        }
        return switch (status.getCode()) {
            case OK -> 200;
            case INVALID_ARGUMENT -> 400;
            case UNAUTHENTICATED, PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED -> 409;
            case FAILED_PRECONDITION -> 412;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            default -> 500;
        };
    }

    /**
     * The gRPC status of a failure of the call {@code method} (full method name). Logs what the caller is not told:
     * the stack of an unexpected exception, the cause of a store failure.
     */
    public static Status status(Throwable failure, String method) {
        if (failure instanceof StatusRuntimeException e) {
            return e.getStatus();
        }
        if (failure instanceof StatusException e) {
            return e.getStatus();
        }
        if (failure instanceof DomainException e) {
            return Status.fromCode(grpcCode(e.code())).withDescription(e.getMessage()).withCause(e);
        }
        if (failure instanceof ConflictException e) {
            return Status.ABORTED.withDescription("another change committed at the same moment (" + e.getMessage()
                    + "); nothing was written: send the request again").withCause(e);
        }
        if (failure instanceof io.meshfed.controller.leader.NotLeaderException e) {
            return Status.UNAVAILABLE.withDescription(e.getMessage() + ": send it to the leader replica, or again"
                    + " once one is elected").withCause(e);
        }
        if (failure instanceof StoreException e) {
            LOG.warn("{} failed: the store cannot be used", method, e);
            return Status.UNAVAILABLE.withDescription("the controller's store cannot be used now; try again later"
                    + " (the controller's log has the cause)").withCause(e);
        }
        LOG.error("{} failed", method, failure);
        return Status.INTERNAL.withDescription("internal error (" + failure.getClass().getSimpleName() + ") in "
                + shortName(method) + "; see the controller's log").withCause(failure);
    }

    /** The JSON error body for {@code status}: {@code {"code": <gRPC code name>, "error": <description>}}. */
    public static String jsonBody(Status status) {
        return jsonBody(status.getCode().name(), status.getDescription() == null ? status.getCode().name()
                : status.getDescription());
    }

    /** A JSON error body with the given code name and message. */
    public static String jsonBody(String code, String message) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("error", message);
        try {
            return JSON.writeValueAsString(body) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of two strings is JSON", e);
        }
    }

    /** The HTTP response for a failed call. */
    public static HttpEndpoint.Response httpResponse(Status status) {
        return new HttpEndpoint.Response(httpStatus(status), EndpointRoutes.JSON, jsonBody(status));
    }

    private static String shortName(String method) {
        return method == null ? "the call" : method.substring(method.lastIndexOf('/') + 1);
    }
}
