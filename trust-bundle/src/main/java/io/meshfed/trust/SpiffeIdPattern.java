package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.InvalidSpiffeIdException.Rule;

/**
 * Which callers an authorization rule names: the one place that parses and matches SPIFFE ID patterns. Three forms:
 * <ul>
 *   <li>an exact SPIFFE ID, {@code spiffe://td/ns/shop/sa/cart}: that ID only;</li>
 *   <li>a path prefix, a SPIFFE ID followed by {@code /*}, {@code spiffe://td/ns/shop/*}: every ID of that trust domain
 *       whose path lies below the prefix at a segment boundary ({@code /ns/shop/x} and {@code /ns/shop/x/y}, not
 *       {@code /ns/shopping/x} and not {@code /ns/shop} itself); {@code spiffe://td/*} is every ID with a path in
 *       {@code td};</li>
 *   <li>a whole trust domain, {@code spiffe://td}: every ID of {@code td}.</li>
 * </ul>
 * Everything but the trailing {@code /*} is a SPIFFE ID under the standard's rules (length, characters, no empty or dot
 * segment), so a pattern is at most 2050 bytes; {@code *} anywhere else is refused ({@link Rule#WILDCARD}). The text
 * is kept exactly as given (the standard allows no normalisation), so a pattern is equal to another when their texts
 * are equal. Immutable and thread-safe.
 */
public final class SpiffeIdPattern implements Comparable<SpiffeIdPattern> {
    private static final String ANY_BELOW = "/*";

    /** The three forms a pattern can take. */
    public enum Form {
        /** One SPIFFE ID. */
        EXACT,
        /** Every ID below a path prefix ({@code .../*}). */
        PREFIX,
        /** Every ID of a trust domain ({@code spiffe://td}). */
        TRUST_DOMAIN
    }

    private final Form form;
    /** EXACT: the ID; PREFIX: the prefix without {@code /*}; TRUST_DOMAIN: the trust domain's ID. */
    private final SpiffeId base;
    private final String text;

    private SpiffeIdPattern(Form form, SpiffeId base, String text) {
        this.form = form;
        this.base = base;
        this.text = text;
    }

    /**
     * Parses a pattern.
     *
     * @throws InvalidSpiffeIdException naming the broken rule; its message starts with "invalid SPIFFE ID pattern"
     */
    public static SpiffeIdPattern parse(String text) {
        requireNonNull(text, "text");
        if (!text.isEmpty() && !text.startsWith(SpiffeId.SCHEME_PREFIX)) {
            throw new InvalidSpiffeIdException("SPIFFE ID pattern", Rule.WRONG_SCHEME, text, null);
        }
        boolean prefix = text.endsWith(ANY_BELOW);
        String id = prefix ? text.substring(0, text.length() - ANY_BELOW.length()) : text;
        // "spiffe://*": the '*' would stand for the trust domain, which a pattern always names.
        if (id.indexOf('*') >= 0 || (prefix && (id + "/").equals(SpiffeId.SCHEME_PREFIX))) {
            throw new InvalidSpiffeIdException("SPIFFE ID pattern", Rule.WILDCARD, text, null);
        }
        SpiffeId base;
        try {
            base = SpiffeId.parse(id);
        } catch (InvalidSpiffeIdException e) {
            throw new InvalidSpiffeIdException("SPIFFE ID pattern", e.rule(), text, e.detail());
        }
        Form form = prefix ? Form.PREFIX : base.isTrustDomainId() ? Form.TRUST_DOMAIN : Form.EXACT;
        return new SpiffeIdPattern(form, base, text);
    }

    /** A pattern for exactly {@code id}. */
    public static SpiffeIdPattern exactly(SpiffeId id) {
        requireNonNull(id, "id");
        return new SpiffeIdPattern(id.isTrustDomainId() ? Form.TRUST_DOMAIN : Form.EXACT, id, id.toString());
    }

    public Form form() {
        return form;
    }

    /** The trust domain every ID the pattern matches lies in. */
    public TrustDomain trustDomain() {
        return base.trustDomain();
    }

    /** Whether {@code id} is one the pattern names. */
    public boolean matches(SpiffeId id) {
        requireNonNull(id, "id");
        if (!id.trustDomain().equals(base.trustDomain())) {
            return false;
        }
        return switch (form) {
            case EXACT -> id.equals(base);
            case TRUST_DOMAIN -> true;
            case PREFIX -> {
                String below = base.path() + "/";
                yield id.path().length() > below.length() && id.path().startsWith(below);
            }
        };
    }

    @Override
    public int compareTo(SpiffeIdPattern other) {
        return text.compareTo(other.text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpiffeIdPattern other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** The pattern as it was given. */
    @Override
    public String toString() {
        return text;
    }
}
