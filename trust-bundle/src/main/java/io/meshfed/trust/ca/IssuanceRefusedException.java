package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

/** A CA refused to issue. {@link #reason()} is stable (for audit logs and metrics); the message explains it. */
public final class IssuanceRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a request was refused. */
    public enum Reason {
        MALFORMED_CSR,
        BAD_CSR_SIGNATURE,
        WEAK_KEY,
        WRONG_TRUST_DOMAIN,
        NOT_A_WORKLOAD_ID,
        CSR_ID_MISMATCH,
        POLICY,
        CA_NOT_VALID,
        /** The backend that signs (Vault) refused, with its own reason. */
        BACKEND_REFUSED,
        /** The trust domain is external: its own mesh issues its SVIDs. */
        EXTERNAL
    }

    private final Reason reason;

    public IssuanceRefusedException(Reason reason, String message) {
        super(message);
        this.reason = requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
