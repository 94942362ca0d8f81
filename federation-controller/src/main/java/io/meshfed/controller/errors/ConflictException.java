package io.meshfed.controller.errors;

/** The request contradicts the current state; see {@link ErrorCode#CONFLICT}. */
public final class ConflictException extends DomainException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(ErrorCode.CONFLICT, message, null);
    }

    public ConflictException(String message, Throwable cause) {
        super(ErrorCode.CONFLICT, message, cause);
    }
}
