package io.meshfed.controller.errors;

/** The system is not in the state the request needs; see {@link ErrorCode#FAILED_PRECONDITION}. */
public final class FailedPreconditionException extends DomainException {
    private static final long serialVersionUID = 1L;

    public FailedPreconditionException(String message) {
        super(ErrorCode.FAILED_PRECONDITION, message, null);
    }

    public FailedPreconditionException(String message, Throwable cause) {
        super(ErrorCode.FAILED_PRECONDITION, message, cause);
    }
}
