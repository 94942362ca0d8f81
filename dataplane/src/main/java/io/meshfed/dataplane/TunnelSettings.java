package io.meshfed.dataplane;

import java.time.Duration;

/**
 * Tuning of the tunnels (HTTP/2 CONNECT between proxies). Receiving: at most {@code maxConcurrentStreams} streams
 * per connection (SETTINGS_MAX_CONCURRENT_STREAMS; more are refused with REFUSED_STREAM). Both sides: the flow-control
 * windows they grant, per stream and per connection, large enough that one bulk transfer is not throttled by
 * round trips. Sending: at most {@code poolSize} connections per destination; a stream goes on a connection of its
 * downstream connection's event loop, a new one opened on that loop once the loop's connections carry
 * {@link TunnelPick#GROW_AT} streams each (or {@code streamsPerConnection}, when smaller) and the pool allows, and
 * {@code streamsPerConnection} is how many a loop's connection takes before, with the pool full, streams go to the
 * least loaded connection of any loop (see {@link TunnelPick}); a connection without streams closes after
 * {@code idleTimeout} (the receiver closes one after twice that, so the sender, which knows, closes first).
 * Defaults: 1000 streams, 4 MiB and 16 MiB windows, 4 connections, 100 streams per connection on its loop, 60 s
 * idle. No flag sets {@code streamsPerConnection}; {@code --tunnel-pool-size} sets the pool size.
 */
public record TunnelSettings(int maxConcurrentStreams, int streamWindow, int connectionWindow, int poolSize,
        int streamsPerConnection, Duration idleTimeout) {
    /** The largest HTTP/2 flow-control window (2^31 - 1). */
    static final int MAX_WINDOW = Integer.MAX_VALUE;
    /** The smallest window HTTP/2 starts with (65,535 bytes); a smaller one would only slow every stream. */
    static final int MIN_WINDOW = 65_535;

    public TunnelSettings {
        atLeast("maximum concurrent streams", maxConcurrentStreams, 1);
        atLeast("stream window", streamWindow, MIN_WINDOW);
        atLeast("connection window", connectionWindow, MIN_WINDOW);
        atLeast("tunnel pool size", poolSize, 1);
        atLeast("streams per connection", streamsPerConnection, 1);
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("tunnel idle timeout must be positive, not " + idleTimeout);
        }
    }

    private static void atLeast(String what, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(what + " must be at least " + min + ", not " + value);
        }
    }

    public static TunnelSettings defaults() {
        return new TunnelSettings(1000, 4 << 20, 16 << 20, 4, 100, Duration.ofSeconds(60));
    }

    public TunnelSettings withMaxConcurrentStreams(int n) {
        return new TunnelSettings(n, streamWindow, connectionWindow, poolSize, streamsPerConnection, idleTimeout);
    }

    public TunnelSettings withPoolSize(int n) {
        return new TunnelSettings(maxConcurrentStreams, streamWindow, connectionWindow, n, streamsPerConnection,
                idleTimeout);
    }

    public TunnelSettings withStreamsPerConnection(int n) {
        return new TunnelSettings(maxConcurrentStreams, streamWindow, connectionWindow, poolSize, n, idleTimeout);
    }

    public TunnelSettings withIdleTimeout(Duration d) {
        return new TunnelSettings(maxConcurrentStreams, streamWindow, connectionWindow, poolSize,
                streamsPerConnection, d);
    }
}
