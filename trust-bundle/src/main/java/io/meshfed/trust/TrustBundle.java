package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The trust bundle of one trust domain: its X.509 root certificates (X.509-SVID authorities), a sequence number that
 * increases with every change, an optional refresh hint, and any JWT-SVID authorities it carries (kept as their JWK
 * JSON so that a bundle passes through meshfed unchanged). Immutable.
 */
public final class TrustBundle {
    private final TrustDomain trustDomain;
    private final List<X509Certificate> x509Authorities;
    private final long sequenceNumber;
    private final Duration refreshHint;
    private final Map<String, String> jwtAuthorities;

    private TrustBundle(TrustDomain trustDomain, List<X509Certificate> x509Authorities, long sequenceNumber,
            Duration refreshHint, Map<String, String> jwtAuthorities) {
        this.trustDomain = trustDomain;
        this.x509Authorities = x509Authorities;
        this.sequenceNumber = sequenceNumber;
        this.refreshHint = refreshHint;
        this.jwtAuthorities = jwtAuthorities;
    }

    /** A bundle with the given roots, sequence number 0 and no refresh hint. */
    public static TrustBundle of(TrustDomain trustDomain, List<X509Certificate> roots) {
        return builder(trustDomain).x509Authorities(roots).build();
    }

    public static Builder builder(TrustDomain trustDomain) {
        return new Builder(trustDomain);
    }

    public Builder toBuilder() {
        Builder b = new Builder(trustDomain);
        b.x509Authorities.addAll(x509Authorities);
        b.sequenceNumber = sequenceNumber;
        b.refreshHint = refreshHint;
        b.jwtAuthorities.putAll(jwtAuthorities);
        return b;
    }

    public TrustDomain trustDomain() {
        return trustDomain;
    }

    /** The root certificates that X.509-SVIDs of this trust domain must chain to. */
    public List<X509Certificate> x509Authorities() {
        return x509Authorities;
    }

    public long sequenceNumber() {
        return sequenceNumber;
    }

    public Optional<Duration> refreshHint() {
        return Optional.ofNullable(refreshHint);
    }

    /** JWT-SVID authorities by key ID, each as the JWK JSON object it was received as. */
    public Map<String, String> jwtAuthorities() {
        return jwtAuthorities;
    }

    /** Same trust domain, same certificates (by DER), same JWT authorities; sequence and hint are not compared. */
    public boolean sameContentAs(TrustBundle other) {
        if (!trustDomain.equals(other.trustDomain) || x509Authorities.size() != other.x509Authorities.size()
                || !jwtAuthorities.equals(other.jwtAuthorities)) {
            return false;
        }
        for (int i = 0; i < x509Authorities.size(); i++) {
            if (!Arrays.equals(der(x509Authorities.get(i)), der(other.x509Authorities.get(i)))) {
                return false;
            }
        }
        return true;
    }

    private static byte[] der(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("certificate cannot be encoded: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrustBundle other && sameContentAs(other) && sequenceNumber == other.sequenceNumber
                && java.util.Objects.equals(refreshHint, other.refreshHint);
    }

    @Override
    public int hashCode() {
        return trustDomain.hashCode() * 31 + Long.hashCode(sequenceNumber);
    }

    @Override
    public String toString() {
        return "TrustBundle[" + trustDomain + ", " + x509Authorities.size() + " root(s), sequence " + sequenceNumber + "]";
    }

    /** Builds a {@link TrustBundle}; validates each argument as it is set. */
    public static final class Builder {
        private final TrustDomain trustDomain;
        private final List<X509Certificate> x509Authorities = new ArrayList<>();
        private long sequenceNumber;
        private Duration refreshHint;
        private final Map<String, String> jwtAuthorities = new LinkedHashMap<>();

        private Builder(TrustDomain trustDomain) {
            this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        }

        /** Replaces the X.509 authorities. Duplicates (same DER) are kept once. */
        public Builder x509Authorities(List<X509Certificate> roots) {
            requireNonNull(roots, "roots");
            x509Authorities.clear();
            roots.forEach(this::addX509Authority);
            return this;
        }

        public Builder addX509Authority(X509Certificate root) {
            requireNonNull(root, "root");
            byte[] der = der(root);
            for (X509Certificate existing : x509Authorities) {
                if (Arrays.equals(der(existing), der)) {
                    return this;
                }
            }
            x509Authorities.add(root);
            return this;
        }

        public Builder sequenceNumber(long sequenceNumber) {
            if (sequenceNumber < 0) {
                throw new IllegalArgumentException("sequenceNumber must be >= 0, got " + sequenceNumber);
            }
            this.sequenceNumber = sequenceNumber;
            return this;
        }

        public Builder refreshHint(Duration refreshHint) {
            if (refreshHint != null && (refreshHint.isNegative() || refreshHint.isZero())) {
                throw new IllegalArgumentException("refreshHint must be positive, got " + refreshHint);
            }
            this.refreshHint = refreshHint;
            return this;
        }

        public Builder putJwtAuthority(String keyId, String jwkJson) {
            requireNonNull(keyId, "keyId");
            requireNonNull(jwkJson, "jwkJson");
            if (keyId.isEmpty()) {
                throw new IllegalArgumentException("keyId must not be empty");
            }
            jwtAuthorities.put(keyId, jwkJson);
            return this;
        }

        public TrustBundle build() {
            return new TrustBundle(trustDomain, List.copyOf(x509Authorities), sequenceNumber, refreshHint,
                    Collections.unmodifiableMap(new LinkedHashMap<>(jwtAuthorities)));
        }
    }
}
