package io.meshfed.trust;

/** Text that is not the PEM, SPIFFE bundle JSON or certificate it should be. The message names what was expected and found. */
public final class TrustFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public TrustFormatException(String message) {
        super(message);
    }

    public TrustFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
