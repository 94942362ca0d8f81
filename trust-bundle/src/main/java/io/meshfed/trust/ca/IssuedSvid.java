package io.meshfed.trust.ca;

import io.meshfed.trust.SpiffeId;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * What a CA returns: the chain to hand to the requester (leaf first, then the signing chain, root excluded), and
 * whether the requested lifetime was shortened to the issuer's own expiry.
 */
public record IssuedSvid(SpiffeId id, List<X509Certificate> chain, boolean lifetimeCapped) {
    public IssuedSvid {
        chain = List.copyOf(chain);
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }
}
