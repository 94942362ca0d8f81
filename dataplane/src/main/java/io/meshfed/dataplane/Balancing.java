package io.meshfed.dataplane;

import java.util.Locale;

/** How a connection picks among the available upstreams of a tier. */
public enum Balancing {
    ROUND_ROBIN, LEAST_CONNECTIONS;

    /** {@code round-robin} or {@code least-connections}. */
    public static Balancing parse(String value) {
        for (Balancing b : values()) {
            if (b.label().equals(value)) {
                return b;
            }
        }
        throw new IllegalArgumentException("'" + value + "' is not a balancing policy: use round-robin or"
                + " least-connections");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
