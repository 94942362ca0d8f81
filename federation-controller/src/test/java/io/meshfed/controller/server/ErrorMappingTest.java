package io.meshfed.controller.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.meshfed.controller.errors.AlreadyExistsException;
import io.meshfed.controller.errors.ConflictException;
import io.meshfed.controller.errors.DomainException;
import io.meshfed.controller.errors.ErrorCode;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.errors.UnavailableException;
import io.meshfed.controller.store.StoreException;
import io.meshfed.trust.ca.CaException;
import org.junit.jupiter.api.Test;

/** The mapping table: every domain error code, the store's failures, unexpected exceptions, statuses passing. */
class ErrorMappingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METHOD = "meshfed.v1.AdminService/AddMember";

    /** What each kind of failure becomes: gRPC code and HTTP status. */
    private record Expected(Status.Code grpc, int http) {}

    private static Expected expected(ErrorCode code) {
        return switch (code) { // exhaustive: a new ErrorCode does not compile until it is in this table
            case INVALID_ARGUMENT -> new Expected(Status.Code.INVALID_ARGUMENT, 400);
            case NOT_FOUND -> new Expected(Status.Code.NOT_FOUND, 404);
            case ALREADY_EXISTS -> new Expected(Status.Code.ALREADY_EXISTS, 409);
            case CONFLICT -> new Expected(Status.Code.FAILED_PRECONDITION, 409);
            case FAILED_PRECONDITION -> new Expected(Status.Code.FAILED_PRECONDITION, 412);
            case UNAVAILABLE -> new Expected(Status.Code.UNAVAILABLE, 503);
        };
    }

    private static DomainException exception(ErrorCode code, String message) {
        return switch (code) {
            case INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case NOT_FOUND -> new NotFoundException(message);
            case ALREADY_EXISTS -> new AlreadyExistsException(message);
            case CONFLICT -> new ConflictException(message);
            case FAILED_PRECONDITION -> new FailedPreconditionException(message);
            case UNAVAILABLE -> new UnavailableException(message);
        };
    }

    private static JsonNode json(Status status) throws Exception {
        HttpEndpoint.Response response = ErrorMapping.httpResponse(status);
        assertThat(response.contentType()).isEqualTo("application/json");
        return JSON.readTree(response.body());
    }

    @Test
    void everyDomainErrorCodeHasItsGrpcCodeAndHttpStatusAndKeepsItsMessage() throws Exception {
        for (ErrorCode code : ErrorCode.values()) {
            String message = "member 'm' says " + code + "; do \"this\"";
            DomainException e = exception(code, message);
            assertThat(e.code()).isEqualTo(code);
            Status status = ErrorMapping.status(e, METHOD);
            assertThat(status.getCode()).as(code.name()).isEqualTo(expected(code).grpc());
            assertThat(ErrorMapping.grpcCode(code)).as(code.name()).isEqualTo(expected(code).grpc());
            assertThat(status.getDescription()).as(code.name()).isEqualTo(message);
            assertThat(ErrorMapping.httpStatus(status)).as(code.name()).isEqualTo(expected(code).http());
            assertThat(ErrorMapping.httpResponse(status).status()).as(code.name()).isEqualTo(expected(code).http());
            JsonNode body = json(status);
            assertThat(body.get("code").asText()).as(code.name()).isEqualTo(expected(code).grpc().name());
            assertThat(body.get("error").asText()).as(code.name()).isEqualTo(message);
        }
    }

    @Test
    void storeFailuresAreAbortedOrUnavailableWithoutTheirInternals() throws Exception {
        Status race = ErrorMapping.status(new io.meshfed.controller.store.ConflictException(
                "Member 'm' is at revision 7, expected absent"), METHOD);
        assertThat(race.getCode()).isEqualTo(Status.Code.ABORTED);
        assertThat(race.getDescription()).contains("Member 'm' is at revision 7").contains("send the request again");
        assertThat(ErrorMapping.httpStatus(race)).isEqualTo(409);

        Status store = ErrorMapping.status(new StoreException("store /var/lib/meshfed/state.db write failed: disk I/O",
                null), METHOD);
        assertThat(store.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(store.getDescription()).contains("store cannot be used now").doesNotContain("/var/lib");
        assertThat(ErrorMapping.httpStatus(store)).isEqualTo(503);
        assertThat(json(store).get("code").asText()).isEqualTo("UNAVAILABLE");
    }

    @Test
    void anUnexpectedExceptionIsInternalPointingToTheLog() throws Exception {
        for (RuntimeException e : new RuntimeException[] {new CaException("/data/ca/x/ca-key.pem: bad key"),
            new IllegalStateException("bug with a detail")}) {
            Status status = ErrorMapping.status(e, METHOD);
            assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
            assertThat(status.getDescription()).isEqualTo("internal error (" + e.getClass().getSimpleName()
                    + ") in AddMember; see the controller's log");
            assertThat(ErrorMapping.httpStatus(status)).isEqualTo(500);
            assertThat(json(status).get("code").asText()).isEqualTo("INTERNAL");
        }
    }

    @Test
    void aStatusMadeByGrpcCodePassesUnchangedAndHasTodaysHttpStatus() {
        Status denied = Status.PERMISSION_DENIED.withDescription("x is not an admin identity");
        assertThat(ErrorMapping.status(denied.asRuntimeException(), METHOD)).isSameAs(denied);
        assertThat(ErrorMapping.status(denied.asException(), METHOD)).isSameAs(denied);
        assertThat(ErrorMapping.httpStatus(Status.INVALID_ARGUMENT)).isEqualTo(400);
        assertThat(ErrorMapping.httpStatus(Status.UNAUTHENTICATED)).isEqualTo(403);
        assertThat(ErrorMapping.httpStatus(Status.PERMISSION_DENIED)).isEqualTo(403);
        assertThat(ErrorMapping.httpStatus(Status.NOT_FOUND)).isEqualTo(404);
        assertThat(ErrorMapping.httpStatus(Status.ALREADY_EXISTS)).isEqualTo(409);
        assertThat(ErrorMapping.httpStatus(Status.FAILED_PRECONDITION)).isEqualTo(412);
        assertThat(ErrorMapping.httpStatus(Status.RESOURCE_EXHAUSTED)).isEqualTo(429);
        assertThat(ErrorMapping.httpStatus(Status.UNAVAILABLE)).isEqualTo(503);
        assertThat(ErrorMapping.httpStatus(Status.UNKNOWN)).isEqualTo(500);
    }
}
