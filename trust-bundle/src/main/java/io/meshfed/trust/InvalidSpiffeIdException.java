package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

/**
 * A string that is not a valid SPIFFE ID or trust domain name. {@link #rule()} names the rule of the SPIFFE ID
 * standard that the input broke; the message says it in words together with the offending input.
 */
public final class InvalidSpiffeIdException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The rules of the SPIFFE ID standard (section 2) that a parser enforces. */
    public enum Rule {
        EMPTY("is empty"),
        TOO_LONG("is longer than 2048 bytes"),
        WRONG_SCHEME("must start with the scheme 'spiffe://'"),
        MISSING_TRUST_DOMAIN("has no trust domain"),
        TRUST_DOMAIN_TOO_LONG("has a trust domain longer than 255 characters"),
        TRUST_DOMAIN_CHARACTER("has a trust domain character other than lowercase letters, digits, '.', '-' and '_'"),
        PORT("must not contain a port"),
        USER_INFO("must not contain user info"),
        QUERY("must not contain a query"),
        FRAGMENT("must not contain a fragment"),
        PERCENT_ENCODING("must not contain percent-encoded characters"),
        EMPTY_SEGMENT("must not contain an empty path segment ('//')"),
        DOT_SEGMENT("must not contain a '.' or '..' path segment"),
        TRAILING_SLASH("must not end with '/'"),
        PATH_CHARACTER("has a path character other than letters, digits, '.', '-' and '_'"),
        NOT_A_TRUST_DOMAIN("names a workload, not a trust domain (it has a path)"),
        WILDCARD("may use '*' only as its whole last path segment ('/*'), in a pattern");

        private final String description;

        Rule(String description) {
            this.description = description;
        }

        /** The rule in words, as it completes the sentence "a SPIFFE ID ...". */
        public String description() {
            return description;
        }
    }

    private final Rule rule;
    private final String input;
    private final String detail;

    InvalidSpiffeIdException(Rule rule, String input, String detail) {
        this("SPIFFE ID", rule, input, detail);
    }

    /** {@code what} names the kind of input in the message ("SPIFFE ID", "SPIFFE ID pattern"). */
    InvalidSpiffeIdException(String what, Rule rule, String input, String detail) {
        super(message(what, rule, input, detail));
        this.rule = requireNonNull(rule, "rule");
        this.input = input;
        this.detail = detail;
    }

    private static String message(String what, Rule rule, String input, String detail) {
        String shown = input.length() > 120 ? input.substring(0, 117) + "..." : input;
        return "invalid " + what + " '" + shown + "': it " + rule.description()
                + (detail == null ? "" : " (" + detail + ")");
    }

    /** The detail the message gave in parentheses, for a caller that rephrases the refusal; may be null. */
    String detail() {
        return detail;
    }

    public Rule rule() {
        return rule;
    }

    /** The string that failed to parse. */
    public String input() {
        return input;
    }
}
