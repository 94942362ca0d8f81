package io.meshfed.api;

import java.net.InetSocketAddress;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code HOST:PORT} as every meshfed process and command writes addresses: a host name or IPv4 address, or an IPv6
 * address in brackets, and a port 0-65535. One parser, so a flag, a config file and an API field accept the same.
 */
public final class HostPort {
    private static final Pattern FORMAT = Pattern.compile("([A-Za-z0-9.\\-]+|\\[[0-9A-Fa-f:.]+\\]):(\\d{1,5})");
    /** The rule, as it completes "&lt;what&gt; '&lt;text&gt;' ...". */
    public static final String RULE = "must be HOST:PORT with a port 0-65535";
    /** The longest host: a DNS name's 253 characters. */
    public static final int MAX_HOST = 253;
    private static final int MAX_LENGTH = MAX_HOST + 2 + 1 + 5 + 8; // brackets, colon, port, surrounding blanks

    private HostPort() {}

    /**
     * Parses {@code text}; the result is unresolved (no DNS lookup here).
     *
     * @throws IllegalArgumentException with {@link #RULE} as its message
     */
    public static InetSocketAddress parse(String text) {
        if (text != null && text.length() > MAX_LENGTH) { // before the pattern: a report may be megabytes long
            throw new IllegalArgumentException(RULE + " and a host of at most " + MAX_HOST + " characters");
        }
        Matcher m = FORMAT.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(RULE);
        }
        int port = Integer.parseInt(m.group(2));
        if (port > 65535) {
            throw new IllegalArgumentException(RULE);
        }
        String host = m.group(1);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.length() > MAX_HOST) {
            throw new IllegalArgumentException(RULE + " and a host of at most " + MAX_HOST + " characters");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** {@code HOST:PORT} of an address as {@link #parse} reads it back: an IPv6 host in brackets. */
    public static String format(InetSocketAddress address) {
        String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** {@link #parse}, resolved: for addresses to bind to. */
    public static InetSocketAddress parseResolved(String text) {
        InetSocketAddress a = parse(text);
        return new InetSocketAddress(a.getHostString(), a.getPort());
    }
}
