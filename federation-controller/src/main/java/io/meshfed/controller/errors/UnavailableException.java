package io.meshfed.controller.errors;

/** A dependency cannot be reached now; see {@link ErrorCode#UNAVAILABLE}. */
public final class UnavailableException extends DomainException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
        super(ErrorCode.UNAVAILABLE, message, null);
    }

    public UnavailableException(String message, Throwable cause) {
        super(ErrorCode.UNAVAILABLE, message, cause);
    }
}
