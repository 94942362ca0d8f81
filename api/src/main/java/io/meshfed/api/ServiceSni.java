package io.meshfed.api;

import java.util.Optional;

/**
 * The TLS server name that names a service port across networks: {@code <port>.<name>.<namespace>.svc.meshfed}.
 * Gateways route by it, and dialers send it to a peer gateway or agent. The port is 1-65535 written without leading
 * zeros; name and namespace are {@link DnsLabel}s. An instance always holds a valid SNI, so
 * {@code parse(sni.toString())} gives it back.
 */
public record ServiceSni(int port, String name, String namespace) {
    /** What every service SNI ends with. */
    public static final String SUFFIX = ".svc.meshfed";
    /** The form, for messages. */
    public static final String FORM = "PORT.NAME.NAMESPACE" + SUFFIX;

    /** @throws IllegalArgumentException naming the part that is not valid */
    public ServiceSni {
        checkPort(port);
        DnsLabel.check("service name", name);
        DnsLabel.check("namespace", namespace);
    }

    /**
     * Parses a server name of the form {@value #FORM}.
     *
     * @throws IllegalArgumentException naming what is wrong: not that form (suffix, number of parts), a port outside
     *     1-65535, or a name or namespace that is not a DNS label
     */
    public static ServiceSni parse(String text) {
        if (text == null || !text.endsWith(SUFFIX)) {
            throw new IllegalArgumentException("SNI '" + text + "' does not end in " + SUFFIX + "; a service's SNI"
                    + " is " + FORM);
        }
        String[] parts = text.substring(0, text.length() - SUFFIX.length()).split("\\.", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("SNI '" + text + "' must be " + FORM + " (three parts before "
                    + SUFFIX + ", not " + parts.length + ")");
        }
        try {
            return new ServiceSni(port(parts[0]), parts[1], parts[2]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("SNI '" + text + "': " + e.getMessage(), e);
        }
    }

    /** {@link #parse}, empty instead of an exception (and for null): for names a peer sent. */
    public static Optional<ServiceSni> tryParse(String text) {
        try {
            return Optional.of(parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** A port as both service names write it: 1-65535, digits only, no leading zero. */
    static int port(String digits) {
        boolean canonical = !digits.isEmpty() && digits.length() <= 5 && digits.chars().allMatch(c -> c >= '0'
                && c <= '9') && (digits.length() == 1 || digits.charAt(0) != '0');
        if (!canonical) {
            throw new IllegalArgumentException("port '" + digits + "' must be a number from 1 to 65535");
        }
        return Integer.parseInt(digits);
    }

    static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port '" + port + "' must be a number from 1 to 65535");
        }
    }

    /** The server name, {@code <port>.<name>.<namespace>.svc.meshfed}. */
    @Override
    public String toString() {
        return port + "." + name + "." + namespace + SUFFIX;
    }
}
