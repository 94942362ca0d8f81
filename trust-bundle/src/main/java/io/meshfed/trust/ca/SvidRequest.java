package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import java.io.IOException;
import java.time.Duration;

/**
 * A request for an X.509-SVID: the requester's PKCS#10 CSR (DER), the SPIFFE ID it asks for and the lifetime it
 * wants. The CA may shorten the lifetime (never beyond its own expiry) but never changes the ID.
 */
public final class SvidRequest {
    /** Shortest lifetime the CAs issue. */
    public static final Duration MIN_TTL = Duration.ofMinutes(1);

    private final byte[] csrDer;
    private final SpiffeId spiffeId;
    private final Duration ttl;

    private SvidRequest(byte[] csrDer, SpiffeId spiffeId, Duration ttl) {
        this.csrDer = csrDer;
        this.spiffeId = spiffeId;
        this.ttl = ttl;
    }

    /**
     * @throws IllegalArgumentException when the ttl is shorter than {@link #MIN_TTL}
     */
    public static SvidRequest of(byte[] csrDer, SpiffeId spiffeId, Duration ttl) {
        requireNonNull(csrDer, "csrDer");
        requireNonNull(spiffeId, "spiffeId");
        requireNonNull(ttl, "ttl");
        if (ttl.compareTo(MIN_TTL) < 0) {
            throw new IllegalArgumentException("ttl must be at least " + MIN_TTL.toMinutes() + " minute, got " + ttl);
        }
        return new SvidRequest(csrDer.clone(), spiffeId, ttl);
    }

    /** A request from a PEM {@code CERTIFICATE REQUEST}. */
    public static SvidRequest fromPem(String csrPem, SpiffeId spiffeId, Duration ttl) {
        try {
            return of(Pem.readCsr(csrPem).getEncoded(), spiffeId, ttl);
        } catch (IOException e) {
            throw new IllegalArgumentException("CSR cannot be encoded: " + e.getMessage(), e);
        }
    }

    public byte[] csrDer() {
        return csrDer.clone();
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    public Duration ttl() {
        return ttl;
    }
}
