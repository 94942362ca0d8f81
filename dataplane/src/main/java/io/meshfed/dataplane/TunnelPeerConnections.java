package io.meshfed.dataplane;

import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The open tunnel connections of each peer identity at one tunnel listener, bounded: a sender needs at most its
 * pool's size per destination (4 by default), a few replicas sharing one SPIFFE ID a few times that, so one stolen
 * SVID cannot hold more than {@link #MAX_PER_PEER} connections (each with up to its SETTINGS_MAX_CONCURRENT_STREAMS
 * streams) and exhaust the listener for every other peer. A connection counts from its handshake until it closes.
 */
final class TunnelPeerConnections {
    /** The most tunnel connections one peer identity may hold open at one listener. */
    static final int MAX_PER_PEER = 32;

    private final int max;
    private final ConcurrentMap<SpiffeId, Integer> open = new ConcurrentHashMap<>();

    TunnelPeerConnections() {
        this(MAX_PER_PEER);
    }

    TunnelPeerConnections(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("at least one connection per peer, not " + max);
        }
        this.max = max;
    }

    /** Counts {@code connection} for {@code peer} until it closes; false (not counted) when the peer is at the limit. */
    boolean admit(SpiffeId peer, Channel connection) {
        boolean[] admitted = {false};
        open.compute(peer, (id, n) -> {
            int count = n == null ? 0 : n;
            if (count >= max) {
                return n;
            }
            admitted[0] = true;
            return count + 1;
        });
        if (admitted[0]) {
            connection.closeFuture().addListener(f -> open.computeIfPresent(peer, (id, n) -> n <= 1 ? null : n - 1));
        }
        return admitted[0];
    }

    /** The connections {@code peer} holds open now. */
    int openBy(SpiffeId peer) {
        return open.getOrDefault(peer, 0);
    }
}
