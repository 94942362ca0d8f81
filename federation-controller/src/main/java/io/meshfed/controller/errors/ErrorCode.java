package io.meshfed.controller.errors;

/**
 * What kind of failure a {@link DomainException} is. The transports map each to their own code: gRPC status codes
 * and HTTP statuses ({@code ErrorMapping}); business code never names a transport's code.
 */
public enum ErrorCode {
    /** The request itself is wrong (a bad name, a malformed address); sending it again will fail again. */
    INVALID_ARGUMENT,
    /** The request names something that does not exist. */
    NOT_FOUND,
    /** The request would create something that exists already, with other properties. */
    ALREADY_EXISTS,
    /** The request contradicts the current state (the thing is used elsewhere, owned by someone else). */
    CONFLICT,
    /** The system is not in the state the request needs (not initialised, a prerequisite missing). */
    FAILED_PRECONDITION,
    /** A dependency cannot be reached now (a member's API server, the store); trying again later may work. */
    UNAVAILABLE
}
