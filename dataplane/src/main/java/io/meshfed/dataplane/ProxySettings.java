package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Tuning of a proxy's data path. Defaults: least connections, 3 s connect timeout, 1 h idle timeout (Envoy's TCP
 * proxy default), 10 s drain on shutdown, ejection after a failure for 2 s doubling up to 60 s, and the tunnels'
 * {@link TunnelSettings#defaults()}.
 */
public record ProxySettings(Balancing balancing, Duration connectTimeout, Duration idleTimeout, Duration drainTimeout,
        Duration baseEjection, Duration maxEjection, TunnelSettings tunnel) {
    public ProxySettings {
        requireNonNull(tunnel, "tunnel");
        requireNonNull(balancing, "balancing");
        positive("connect timeout", connectTimeout);
        positive("idle timeout", idleTimeout);
        requireNonNull(drainTimeout, "drainTimeout");
        positive("ejection", baseEjection);
        positive("maximum ejection", maxEjection);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, not " + d);
        }
    }

    /** Settings with the tunnels' defaults. */
    public ProxySettings(Balancing balancing, Duration connectTimeout, Duration idleTimeout, Duration drainTimeout,
            Duration baseEjection, Duration maxEjection) {
        this(balancing, connectTimeout, idleTimeout, drainTimeout, baseEjection, maxEjection, TunnelSettings.defaults());
    }

    public static ProxySettings defaults() {
        return new ProxySettings(Balancing.LEAST_CONNECTIONS, Duration.ofSeconds(3), Duration.ofHours(1),
                Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(60));
    }

    public ProxySettings withIdleTimeout(Duration d) {
        return new ProxySettings(balancing, connectTimeout, d, drainTimeout, baseEjection, maxEjection, tunnel);
    }

    public ProxySettings withDrainTimeout(Duration d) {
        return new ProxySettings(balancing, connectTimeout, idleTimeout, d, baseEjection, maxEjection, tunnel);
    }

    public ProxySettings withTunnel(TunnelSettings t) {
        return new ProxySettings(balancing, connectTimeout, idleTimeout, drainTimeout, baseEjection, maxEjection, t);
    }
}
