package io.meshfed.api;

import java.util.Optional;

/**
 * The {@code :authority} of a tunnel stream (an HTTP/2 {@code CONNECT} between meshfed proxies), which names a service
 * port: {@code <name>.<namespace>.svc.meshfed:<port>}. It names the same thing as a {@link ServiceSni}, in the
 * host:port form CONNECT requires; {@link #of(ServiceSni)} and {@link #sni()} convert. The port is 1-65535 written
 * without leading zeros; name and namespace are {@link DnsLabel}s. An instance always holds a valid authority, so
 * {@code parse(authority.toString())} gives it back.
 */
public record ServiceAuthority(String name, String namespace, int port) {
    /** The form, for messages. */
    public static final String FORM = "NAME.NAMESPACE" + ServiceSni.SUFFIX + ":PORT";
    /** Longer than any valid authority (two 63-character labels, the suffix, a 5-digit port); longer text is refused. */
    static final int MAX_LENGTH = 63 + 1 + 63 + ServiceSni.SUFFIX.length() + 1 + 5;

    /** @throws IllegalArgumentException naming the part that is not valid */
    public ServiceAuthority {
        ServiceSni.checkPort(port);
        DnsLabel.check("service name", name);
        DnsLabel.check("namespace", namespace);
    }

    /** The authority of the service port {@code sni} names. */
    public static ServiceAuthority of(ServiceSni sni) {
        return new ServiceAuthority(sni.name(), sni.namespace(), sni.port());
    }

    /** The SNI of the same service port. */
    public ServiceSni sni() {
        return new ServiceSni(port, name, namespace);
    }

    /**
     * Parses an authority of the form {@value #FORM}.
     *
     * @throws IllegalArgumentException naming what is wrong: no port, not that form (suffix, number of parts), a port
     *     outside 1-65535, or a name or namespace that is not a DNS label
     */
    public static ServiceAuthority parse(String text) {
        if (text == null || text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("authority " + (text == null ? "null" : "of " + text.length()
                    + " characters") + " is not " + FORM);
        }
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("authority '" + text + "' has no port; a service's authority is "
                    + FORM);
        }
        String host = text.substring(0, colon);
        if (!host.endsWith(ServiceSni.SUFFIX)) {
            throw new IllegalArgumentException("authority '" + text + "' does not name a host ending in "
                    + ServiceSni.SUFFIX + "; a service's authority is " + FORM);
        }
        String[] parts = host.substring(0, host.length() - ServiceSni.SUFFIX.length()).split("\\.", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("authority '" + text + "' must be " + FORM + " (two parts before "
                    + ServiceSni.SUFFIX + ", not " + parts.length + ")");
        }
        try {
            return new ServiceAuthority(parts[0], parts[1], ServiceSni.port(text.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("authority '" + text + "': " + e.getMessage(), e);
        }
    }

    /** {@link #parse}, empty instead of an exception (and for null): for authorities a peer sent. */
    public static Optional<ServiceAuthority> tryParse(String text) {
        try {
            return Optional.of(parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The authority, {@code <name>.<namespace>.svc.meshfed:<port>}. */
    @Override
    public String toString() {
        return name + "." + namespace + ServiceSni.SUFFIX + ":" + port;
    }
}
