package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

/**
 * A SPIFFE ID, {@code spiffe://<trust-domain><path>}, validated as the SPIFFE ID standard says. Immutable; two IDs are
 * equal when their string forms are equal (the standard allows no normalisation other than what the parser rejects).
 */
public final class SpiffeId implements Comparable<SpiffeId> {
    static final String SCHEME_PREFIX = "spiffe://";

    private final TrustDomain trustDomain;
    private final String path;
    private final String text;

    private SpiffeId(TrustDomain trustDomain, String path) {
        this.trustDomain = trustDomain;
        this.path = path;
        this.text = SCHEME_PREFIX + trustDomain.name() + path;
    }

    /**
     * Parses and validates a SPIFFE ID.
     *
     * @throws InvalidSpiffeIdException naming the rule of the standard that {@code text} breaks
     */
    public static SpiffeId parse(String text) {
        requireNonNull(text, "text");
        SpiffeIdParser.Parts parts = SpiffeIdParser.parse(text);
        return new SpiffeId(TrustDomain.ofValidated(parts.trustDomain()), parts.path());
    }

    static SpiffeId of(TrustDomain trustDomain, String validatedPath) {
        return new SpiffeId(trustDomain, validatedPath);
    }

    public TrustDomain trustDomain() {
        return trustDomain;
    }

    /** The path including its leading '/', or the empty string for the ID of a trust domain itself. */
    public String path() {
        return path;
    }

    /** True for {@code spiffe://<td>} with no path: the ID of a trust domain, carried by signing certificates. */
    public boolean isTrustDomainId() {
        return path.isEmpty();
    }

    @Override
    public int compareTo(SpiffeId other) {
        return text.compareTo(other.text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpiffeId other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** The URI form, {@code spiffe://td/path}. */
    @Override
    public String toString() {
        return text;
    }
}
