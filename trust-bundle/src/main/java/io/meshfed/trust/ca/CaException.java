package io.meshfed.trust.ca;

/**
 * A certificate authority cannot be created or loaded: missing or incomplete files, a wrong key-encryption key, a
 * key that does not match its certificate, an incomplete chain. The message names the file and what to do.
 */
public final class CaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CaException(String message) {
        super(message);
    }

    public CaException(String message, Throwable cause) {
        super(message, cause);
    }
}
