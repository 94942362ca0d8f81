package io.meshfed.controller.errors;

/** The request is wrong in itself; see {@link ErrorCode#INVALID_ARGUMENT}. */
public final class InvalidArgumentException extends DomainException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message) {
        super(ErrorCode.INVALID_ARGUMENT, message, null);
    }

    public InvalidArgumentException(String message, Throwable cause) {
        super(ErrorCode.INVALID_ARGUMENT, message, cause);
    }
}
