package io.meshfed.trust.ca;

/**
 * The backend that signs cannot be reached or cannot sign now (Vault down, sealed, or refusing the controller's
 * own credentials). Nothing about the request is wrong: the requester should retry later, and SVIDs issued before
 * keep working. The message names the backend and what it answered.
 */
public final class CaUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CaUnavailableException(String message) {
        super(message);
    }

    public CaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
