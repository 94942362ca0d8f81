package io.meshfed.dataplane;

import io.meshfed.api.Durations;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The data-path flags every proxy command takes (a picocli mixin): {@code --balancing}, {@code --connect-timeout},
 * {@code --idle-timeout}, {@code --drain-timeout}, {@code --tunnel-pool-size}, {@code --tunnel-max-streams}. A bad
 * value is an error naming its flag.
 */
public final class ProxyOptions {
    @Option(names = "--balancing", defaultValue = "least-connections", paramLabel = "POLICY",
            description = "round-robin or least-connections (default ${DEFAULT-VALUE}).")
    String balancing;

    @Option(names = "--connect-timeout", defaultValue = "3s", paramLabel = "DURATION",
            description = "Timeout of a connect to an upstream (default ${DEFAULT-VALUE}).")
    String connectTimeout;

    @Option(names = "--idle-timeout", defaultValue = "1h", paramLabel = "DURATION",
            description = "Close a connection with no byte either way for this long (default ${DEFAULT-VALUE}).")
    String idleTimeout;

    @Option(names = "--drain-timeout", defaultValue = "10s", paramLabel = "DURATION",
            description = "On shutdown, how long open connections may finish (default ${DEFAULT-VALUE}).")
    String drainTimeout;

    @Option(names = "--tunnel-pool-size", defaultValue = "4", paramLabel = "N",
            description = "Most tunnel connections to one destination gateway (default ${DEFAULT-VALUE}).")
    int tunnelPoolSize;

    @Option(names = "--tunnel-max-streams", defaultValue = "1000", paramLabel = "N",
            description = "Most concurrent streams per connection of the tunnel listener (default ${DEFAULT-VALUE}).")
    int tunnelMaxStreams;

    /** The settings the flags give; ejection and the tunnels' windows keep their defaults. */
    public ProxySettings settings() {
        ProxySettings d = ProxySettings.defaults();
        Balancing policy;
        try {
            policy = Balancing.parse(balancing);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--balancing: " + e.getMessage());
        }
        TunnelSettings tunnel;
        try {
            tunnel = d.tunnel().withPoolSize(tunnelPoolSize);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tunnel-pool-size: " + e.getMessage());
        }
        try {
            tunnel = tunnel.withMaxConcurrentStreams(tunnelMaxStreams);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tunnel-max-streams: " + e.getMessage());
        }
        return new ProxySettings(policy, duration("--connect-timeout", connectTimeout),
                duration("--idle-timeout", idleTimeout), duration("--drain-timeout", drainTimeout),
                d.baseEjection(), d.maxEjection(), tunnel);
    }

    private static Duration duration(String flag, String value) {
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }
}
