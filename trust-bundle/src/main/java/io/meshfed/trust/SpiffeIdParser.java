package io.meshfed.trust;

import io.meshfed.trust.InvalidSpiffeIdException.Rule;
import java.nio.charset.StandardCharsets;

/** The SPIFFE ID grammar of the SPIFFE ID standard, section 2. Every rejection names its rule. */
final class SpiffeIdParser {
    static final int MAX_ID_BYTES = 2048;

    record Parts(String trustDomain, String path) {}

    private SpiffeIdParser() {}

    static Parts parse(String text) {
        if (text.isEmpty()) {
            throw new InvalidSpiffeIdException(Rule.EMPTY, text, null);
        }
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
            throw new InvalidSpiffeIdException(Rule.TOO_LONG, text, text.getBytes(StandardCharsets.UTF_8).length + " bytes");
        }
        if (!text.startsWith(SpiffeId.SCHEME_PREFIX)) {
            throw new InvalidSpiffeIdException(Rule.WRONG_SCHEME, text, null);
        }
        String rest = text.substring(SpiffeId.SCHEME_PREFIX.length());
        int fragment = rest.indexOf('#');
        if (fragment >= 0) {
            throw new InvalidSpiffeIdException(Rule.FRAGMENT, text, null);
        }
        int query = rest.indexOf('?');
        if (query >= 0) {
            throw new InvalidSpiffeIdException(Rule.QUERY, text, null);
        }
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        checkTrustDomain(authority, text);
        checkPath(path, text);
        return new Parts(authority, path);
    }

    /** Validates a bare trust domain name; {@code input} is what the user gave, for the message. */
    static String checkTrustDomain(String name, String input) {
        if (name.isEmpty()) {
            throw new InvalidSpiffeIdException(Rule.MISSING_TRUST_DOMAIN, input, null);
        }
        if (name.indexOf('@') >= 0) {
            throw new InvalidSpiffeIdException(Rule.USER_INFO, input, null);
        }
        if (name.indexOf(':') >= 0) {
            throw new InvalidSpiffeIdException(Rule.PORT, input, null);
        }
        if (name.indexOf('%') >= 0) {
            throw new InvalidSpiffeIdException(Rule.PERCENT_ENCODING, input, null);
        }
        if (name.length() > TrustDomain.MAX_LENGTH) {
            throw new InvalidSpiffeIdException(Rule.TRUST_DOMAIN_TOO_LONG, input, name.length() + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!isTrustDomainChar(c)) {
                throw new InvalidSpiffeIdException(Rule.TRUST_DOMAIN_CHARACTER, input, describe(c));
            }
        }
        return name;
    }

    private static void checkPath(String path, String input) {
        if (path.isEmpty()) {
            return;
        }
        if (path.indexOf('%') >= 0) {
            throw new InvalidSpiffeIdException(Rule.PERCENT_ENCODING, input, null);
        }
        // path starts with '/'; split keeps trailing empty strings with limit -1
        String[] segments = path.substring(1).split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            if (segment.isEmpty()) {
                throw new InvalidSpiffeIdException(
                        i == segments.length - 1 ? Rule.TRAILING_SLASH : Rule.EMPTY_SEGMENT, input, null);
            }
            if (segment.equals(".") || segment.equals("..")) {
                throw new InvalidSpiffeIdException(Rule.DOT_SEGMENT, input, null);
            }
            for (int j = 0; j < segment.length(); j++) {
                char c = segment.charAt(j);
                if (!isPathChar(c)) {
                    throw new InvalidSpiffeIdException(Rule.PATH_CHARACTER, input, describe(c));
                }
            }
        }
    }

    private static boolean isTrustDomainChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    }

    private static boolean isPathChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '-' || c == '_';
    }

    private static String describe(char c) {
        if (c < 0x20 || c == 0x7f || Character.isWhitespace(c)) {
            return String.format("character U+%04X", (int) c);
        }
        return "character '" + c + "'";
    }
}
