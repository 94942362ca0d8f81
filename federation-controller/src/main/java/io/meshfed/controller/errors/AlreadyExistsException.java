package io.meshfed.controller.errors;

/** The request would create something that exists with other properties; see {@link ErrorCode#ALREADY_EXISTS}. */
public final class AlreadyExistsException extends DomainException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String message) {
        super(ErrorCode.ALREADY_EXISTS, message, null);
    }

    public AlreadyExistsException(String message, Throwable cause) {
        super(ErrorCode.ALREADY_EXISTS, message, cause);
    }
}
