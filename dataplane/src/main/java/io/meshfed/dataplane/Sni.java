package io.meshfed.dataplane;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SNI that names a service port across networks: {@code <port>.<name>.<namespace>.svc.meshfed}, in exactly the
 * form {@link #toString()} writes (a port without leading zeros), so one service port has one name.
 */
public record Sni(int port, String service, String namespace) {
    private static final Pattern FORMAT = Pattern.compile(
            "([1-9]\\d{0,4})\\.([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)\\.([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)\\.svc\\.meshfed");

    public static Optional<Sni> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        Matcher m = FORMAT.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        int port = Integer.parseInt(m.group(1));
        return port < 1 || port > 65535 ? Optional.empty() : Optional.of(new Sni(port, m.group(2), m.group(4)));
    }

    @Override
    public String toString() {
        return port + "." + service + "." + namespace + ".svc.meshfed";
    }
}
