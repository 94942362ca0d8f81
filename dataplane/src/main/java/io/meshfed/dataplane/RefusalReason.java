package io.meshfed.dataplane;

import java.util.Locale;

/** Why the inbound listener closed a connection before any byte reached a workload. Counted by name. */
public enum RefusalReason {
    /** Not TLS, or the handshake failed for another reason. */
    HANDSHAKE,
    /** The peer's certificate did not verify (unknown trust domain, expired, ...). */
    UNTRUSTED_PEER,
    /** No SNI, or one not of the form port.name.namespace.svc.meshfed. */
    BAD_SNI,
    /** No exported service with a healthy upstream for that SNI. */
    UNKNOWN_SERVICE,
    /** The peer's trust domain may not call this service. */
    UNAUTHORIZED,
    /** The peer's SPIFFE ID was revoked (its SVID, perhaps stolen, is still within its lifetime). */
    REVOKED,
    /** Every upstream refused the connection. */
    UPSTREAM_FAILED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
