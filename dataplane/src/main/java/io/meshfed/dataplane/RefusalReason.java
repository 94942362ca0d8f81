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
    UPSTREAM_FAILED,
    /** A tunnel stream whose {@code :authority} is not of the form name.namespace.svc.meshfed:port (HTTP 400). */
    BAD_AUTHORITY,
    /** A tunnel stream whose method is not CONNECT (HTTP 405). */
    METHOD_NOT_ALLOWED,
    /**
     * A tunnel stream with a forwarded identity the peer may not speak for: the peer is not a gateway of a Kubernetes
     * member, the identity is not in the peer's own trust domain, or it is not one well-formed SPIFFE ID (HTTP 403).
     */
    FORGED_IDENTITY,
    /** A TLS client of the tunnel listener that did not negotiate ALPN h2. */
    NO_H2,
    /** A tunnel stream over the connection's SETTINGS_MAX_CONCURRENT_STREAMS (reset with REFUSED_STREAM). */
    STREAM_LIMIT,
    /**
     * A tunnel connection from a peer that already holds {@link TunnelPeerConnections#MAX_PER_PEER} open ones (closed
     * after the handshake, before HTTP/2 starts).
     */
    CONNECTION_LIMIT;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
