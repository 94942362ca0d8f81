package io.meshfed.controller.errors;

import static java.util.Objects.requireNonNull;

/**
 * A failure of a controller operation that its caller can act on. The message is for the user: it names what was
 * wrong and what to do. Thrown by business code; the transports translate it once ({@code ErrorMapping}).
 */
public abstract sealed class DomainException extends RuntimeException
        permits InvalidArgumentException, NotFoundException, AlreadyExistsException, ConflictException,
        FailedPreconditionException, UnavailableException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    DomainException(ErrorCode code, String message, Throwable cause) {
        super(requireNonNull(message, "message"), cause);
        this.code = requireNonNull(code, "code");
    }

    public final ErrorCode code() {
        return code;
    }
}
