package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

/**
 * A SPIFFE trust domain name such as {@code east.acme.mesh}. Immutable; equal when the names are equal.
 *
 * <p>Names follow the SPIFFE ID standard: lowercase letters, digits, {@code .}, {@code -} and {@code _}, at most 255
 * characters. {@link #parse(String)} accepts the bare name or the trust domain's SPIFFE ID {@code spiffe://name}.
 */
public final class TrustDomain implements Comparable<TrustDomain> {
    static final int MAX_LENGTH = 255;

    private final String name;

    private TrustDomain(String name) {
        this.name = name;
    }

    /**
     * Parses a trust domain name, or the SPIFFE ID of a trust domain ({@code spiffe://east.acme.mesh}).
     *
     * @throws InvalidSpiffeIdException naming the broken rule
     */
    public static TrustDomain parse(String text) {
        requireNonNull(text, "text");
        if (text.startsWith(SpiffeId.SCHEME_PREFIX) || text.contains("://")) {
            SpiffeId id = SpiffeId.parse(text);
            if (!id.path().isEmpty()) {
                throw new InvalidSpiffeIdException(InvalidSpiffeIdException.Rule.NOT_A_TRUST_DOMAIN, text, null);
            }
            return id.trustDomain();
        }
        return new TrustDomain(SpiffeIdParser.checkTrustDomain(text, text));
    }

    static TrustDomain ofValidated(String name) {
        return new TrustDomain(name);
    }

    /** The bare name, e.g. {@code east.acme.mesh}. */
    public String name() {
        return name;
    }

    /** The SPIFFE ID of the trust domain itself, {@code spiffe://<name>}. */
    public SpiffeId id() {
        return SpiffeId.of(this, "");
    }

    /** A workload SPIFFE ID in this trust domain. {@code path} must start with '/'; it is validated. */
    public SpiffeId workload(String path) {
        return SpiffeId.parse(SpiffeId.SCHEME_PREFIX + name + requireNonNull(path, "path"));
    }

    @Override
    public int compareTo(TrustDomain other) {
        return name.compareTo(other.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrustDomain other && name.equals(other.name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
