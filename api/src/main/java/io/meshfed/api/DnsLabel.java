package io.meshfed.api;

import java.util.regex.Pattern;

/**
 * The DNS label (RFC 1123) every meshfed name is: networks, members, services, namespaces, route ids and the parts
 * of a service's SNI. Lowercase letters, digits and '-', 1 to 63 characters, starting and ending with a letter or
 * digit. One rule, so the CLI, the controller, the agent's config and the data path accept the same names.
 */
public final class DnsLabel {
    private static final Pattern FORMAT = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** What a DNS label is, in words. */
    public static final String DESCRIPTION =
            "lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit";
    /** The rule, as it completes "&lt;what&gt; '&lt;value&gt;' ...". */
    public static final String RULE = "must be a DNS label (" + DESCRIPTION + ")";

    private DnsLabel() {}

    /** Whether {@code value} is a DNS label; null is not. */
    public static boolean matches(String value) {
        return value != null && FORMAT.matcher(value).matches();
    }

    /**
     * Returns {@code value} when it is a DNS label.
     *
     * @param what names the value in the message, e.g. {@code "namespace"}
     * @throws IllegalArgumentException "&lt;what&gt; '&lt;value&gt;' {@value #RULE}"
     */
    public static String check(String what, String value) {
        if (!matches(value)) {
            throw new IllegalArgumentException(what + " '" + value + "' " + RULE);
        }
        return value;
    }
}
