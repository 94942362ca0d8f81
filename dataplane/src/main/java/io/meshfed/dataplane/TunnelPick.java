package io.meshfed.dataplane;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Which connection of a {@link TunnelPool} destination takes one more stream, so that a stream lives on the event
 * loop of the downstream connection it carries: Netty keeps a stream's channel on its connection's loop, and a relay
 * between channels of two loops hands every chunk over between threads (a task, a wake-up and a promise each way).
 * Draining connections (GOAWAY) are never picked and do not count towards the pool size. In order:
 * <ol>
 * <li>the least loaded connection on the downstream's loop, when it carries fewer than {@link #growAt} streams;
 * <li>else a new connection, on the downstream's loop, while the pool has fewer than {@code poolSize};
 * <li>else the least loaded connection on the downstream's loop, when it carries fewer than
 *     {@code streamsPerConnection} streams (its capacity);
 * <li>else the least loaded connection of any loop (on a tie, one on the downstream's loop); a new connection only
 *     when every one drains.
 * </ol>
 * {@code growAt} is {@link #GROW_AT}, or {@code streamsPerConnection} when that is smaller (1: one connection per
 * stream while the pool allows). Pure: the pool calls it under its lock and opens what it says.
 */
final class TunnelPick {
    /** A loop whose connections carry this many streams each grows a connection of its own (pool permitting). */
    static final int GROW_AT = 2;

    /** What the choice needs of a connection; read under the pool's lock. */
    interface Candidate {
        /** The event loop of the connection's channel (compared by identity). */
        Executor loop();

        /** Streams it carries or is opening now. */
        int load();

        /** Whether it received a GOAWAY (or is closing): it takes no new stream. */
        boolean draining();
    }

    private final int poolSize;
    private final int streamsPerConnection;
    private final int growAt;

    TunnelPick(int poolSize, int streamsPerConnection) {
        if (poolSize < 1) {
            throw new IllegalArgumentException("poolSize must be at least 1, not " + poolSize);
        }
        if (streamsPerConnection < 1) {
            throw new IllegalArgumentException("streamsPerConnection must be at least 1, not " + streamsPerConnection);
        }
        this.poolSize = poolSize;
        this.streamsPerConnection = streamsPerConnection;
        this.growAt = Math.min(GROW_AT, streamsPerConnection);
    }

    static TunnelPick of(TunnelSettings settings) {
        return new TunnelPick(settings.poolSize(), settings.streamsPerConnection());
    }

    int growAt() {
        return growAt;
    }

    /** The connection for one more stream from a downstream on {@code loop}; empty: open a new one on it. */
    <C extends Candidate> Optional<C> choose(List<C> connections, Executor loop) {
        C sameLoop = null;
        C any = null;
        int usable = 0;
        for (C c : connections) {
            if (c.draining()) {
                continue;
            }
            usable++;
            boolean mine = c.loop() == loop;
            if (mine && (sameLoop == null || c.load() < sameLoop.load())) {
                sameLoop = c;
            }
            if (any == null || c.load() < any.load() || (c.load() == any.load() && mine && any.loop() != loop)) {
                any = c;
            }
        }
        if (sameLoop != null && sameLoop.load() < growAt) {
            return Optional.of(sameLoop);
        }
        if (usable < poolSize) {
            return Optional.empty();
        }
        if (sameLoop != null && sameLoop.load() < streamsPerConnection) {
            return Optional.of(sameLoop);
        }
        return Optional.ofNullable(any);
    }
}
