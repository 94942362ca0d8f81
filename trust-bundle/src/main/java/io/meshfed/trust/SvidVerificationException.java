package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.security.cert.CertificateException;

/**
 * An X.509-SVID that failed verification. {@link #reason()} is a stable code (for metrics and tests); the message
 * says what was wrong in words.
 */
public final class SvidVerificationException extends CertificateException {
    private static final long serialVersionUID = 1L;

    /** Why an SVID was rejected. Stable names: gateways count handshake failures by them. */
    public enum Reason {
        EMPTY_CHAIN,
        NO_URI_SAN,
        MULTIPLE_URI_SANS,
        INVALID_SPIFFE_ID,
        LEAF_IS_CA,
        LEAF_KEY_USAGE,
        SIGNER_NOT_CA,
        SIGNER_KEY_USAGE,
        UNKNOWN_TRUST_DOMAIN,
        EXPIRED,
        NOT_YET_VALID,
        BAD_SIGNATURE,
        UNTRUSTED_CHAIN,
        UNEXPECTED_ID,
        NOT_AUTHORIZED;

        /** Lower-case label for metrics, e.g. {@code unknown_trust_domain}. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Reason reason;

    public SvidVerificationException(Reason reason, String message) {
        super(message);
        this.reason = requireNonNull(reason, "reason");
    }

    public SvidVerificationException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
