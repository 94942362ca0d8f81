package io.meshfed.dataplane;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** A proxy's counters, read by its metrics endpoint and by tests. */
public final class ProxyStats {
    /** Why a dial to an upstream failed. */
    public enum UpstreamFailure {
        /** Refused, unreachable, or no answer within the connect timeout. */
        CONNECT,
        /** The mTLS handshake failed (certificate not trusted, peer closed, ...). */
        HANDSHAKE,
        /** The handshake succeeded but the peer is not who the catalog says fronts the endpoint. */
        IDENTITY,
        /**
         * A tunnel stream the destination did not take: no such service there (404), no upstream answered there
         * (503), reset, or no stream could be opened. The upstream is ejected like after a failed connect.
         */
        REFUSED,
        /**
         * The destination refused this caller (403). It says nothing of the upstream's health, so the upstream is
         * not ejected (another caller may be allowed there); the next upstream is still tried.
         */
        FORBIDDEN;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Whether the failure ejects the upstream (everything but a refusal of the caller). */
        public boolean ejects() {
            return this != FORBIDDEN;
        }
    }

    /** Which side of a TLS handshake the proxy was. */
    public enum Side {
        CLIENT, SERVER;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Which way a tunnel connection or stream goes: accepted by the tunnel listener, or opened by the proxy. */
    public enum Direction {
        INBOUND, OUTBOUND;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The result of an outbound tunnel stream besides {@code ok}. */
    public static final String OUTBOUND_REFUSED = "refused";
    /** An outbound stream the peer reset or closed before answering. */
    public static final String OUTBOUND_RESET = "reset";
    /** An outbound stream that could not be opened (no tunnel connection, or the connection refused a new stream). */
    public static final String OUTBOUND_UNAVAILABLE = "unavailable";
    /** The result of a tunnel stream that was carried. */
    public static final String OK = "ok";

    private final Map<RefusalReason, LongAdder> refusals = new EnumMap<>(RefusalReason.class);
    private final Map<UpstreamFailure, LongAdder> upstreamFailures = new EnumMap<>(UpstreamFailure.class);
    private final Map<AuthzReason, LongAdder> authzDecisions = new EnumMap<>(AuthzReason.class);
    final LongAdder policyClosed = new LongAdder();
    final LongAdder inboundRouted = new LongAdder();
    final LongAdder outboundCarried = new LongAdder();
    final LongAdder outboundUnroutable = new LongAdder();
    final LongAdder bytesFromDownstream = new LongAdder();
    final LongAdder bytesFromUpstream = new LongAdder();
    final LongAdder idleClosed = new LongAdder();
    final AtomicInteger active = new AtomicInteger();
    private final Map<Side, LongAdder> handshakes = new EnumMap<>(Side.class);
    private final Map<Direction, LongAdder> tunnelConnections = new EnumMap<>(Direction.class);
    private final Map<Direction, Map<String, LongAdder>> tunnelStreams = new EnumMap<>(Direction.class);
    private final AtomicInteger activeStreams = new AtomicInteger();

    public ProxyStats() {
        for (RefusalReason r : RefusalReason.values()) {
            refusals.put(r, new LongAdder());
        }
        for (UpstreamFailure f : UpstreamFailure.values()) {
            upstreamFailures.put(f, new LongAdder());
        }
        for (AuthzReason r : AuthzReason.values()) {
            authzDecisions.put(r, new LongAdder());
        }
        for (Side s : Side.values()) {
            handshakes.put(s, new LongAdder());
        }
        for (Direction d : Direction.values()) {
            tunnelConnections.put(d, new LongAdder());
        }
        Map<String, LongAdder> inbound = new LinkedHashMap<>();
        inbound.put(OK, new LongAdder());
        for (RefusalReason r : RefusalReason.values()) {
            inbound.put(r.label(), new LongAdder());
        }
        tunnelStreams.put(Direction.INBOUND, java.util.Collections.unmodifiableMap(inbound));
        Map<String, LongAdder> outbound = new LinkedHashMap<>();
        for (String result : List.of(OK, OUTBOUND_REFUSED, OUTBOUND_RESET, OUTBOUND_UNAVAILABLE)) {
            outbound.put(result, new LongAdder());
        }
        tunnelStreams.put(Direction.OUTBOUND, java.util.Collections.unmodifiableMap(outbound));
    }

    void handshake(Side side) {
        handshakes.get(side).increment();
    }

    void tunnelConnection(Direction direction) {
        tunnelConnections.get(direction).increment();
    }

    void tunnelStream(Direction direction, String result) {
        LongAdder counter = tunnelStreams.get(direction).get(result);
        if (counter == null) {
            throw new IllegalArgumentException("no tunnel stream result '" + result + "' for " + direction.label());
        }
        counter.increment();
    }

    void streamOpened() {
        activeStreams.incrementAndGet();
    }

    void streamClosed() {
        activeStreams.decrementAndGet();
    }

    /** TLS handshakes the proxy finished (successful or not), as client (dials, tunnels) or server (listeners). */
    public long handshakes(Side side) {
        return handshakes.get(side).sum();
    }

    /** Tunnel connections established (TLS and HTTP/2 up, the peer checked), by direction. */
    public long tunnelConnections(Direction direction) {
        return tunnelConnections.get(direction).sum();
    }

    /**
     * Tunnel streams by direction and result: {@code ok} or, inbound, the {@link RefusalReason} label it was refused
     * with; outbound, {@code refused}, {@code reset} or {@code unavailable}. 0 for a result that does not exist.
     */
    public long tunnelStreams(Direction direction, String result) {
        LongAdder counter = tunnelStreams.get(direction).get(result);
        return counter == null ? 0 : counter.sum();
    }

    /** The results {@link #tunnelStreams} counts for {@code direction}. */
    public java.util.Set<String> tunnelStreamResults(Direction direction) {
        return tunnelStreams.get(direction).keySet();
    }

    /** Tunnel streams carrying a connection now, both directions. */
    public int activeStreams() {
        return activeStreams.get();
    }

    /** Counts an authorization decision; returns it. */
    CallerDecision decided(CallerDecision decision) {
        authzDecisions.get(decision.reason()).increment();
        return decision;
    }

    /** Counts open connections a new policy closed, each as the deny decision it was. */
    void closedByPolicy(java.util.List<CallerDecision> decisions) {
        decisions.forEach(this::decided);
        policyClosed.add(decisions.size());
    }

    /**
     * Authorization decisions by the rule that decided, on every inbound path; the decision (allow or deny) is
     * {@link AuthzReason#decision()}. A connection a new policy closed counts once more, as a deny.
     */
    public long authzDecisions(AuthzReason reason) {
        return authzDecisions.get(reason).sum();
    }

    /** Open connections closed because a new policy no longer allows their caller. */
    public long policyClosed() {
        return policyClosed.sum();
    }

    void refused(RefusalReason reason) {
        refusals.get(reason).increment();
    }

    void upstreamFailed(UpstreamFailure failure) {
        upstreamFailures.get(failure).increment();
    }

    /** Inbound connections closed before reaching a workload, by reason. */
    public long refusals(RefusalReason reason) {
        return refusals.get(reason).sum();
    }

    /** Dials to an upstream that failed, by reason (each failure moves on to the next upstream). */
    public long upstreamFailures(UpstreamFailure failure) {
        return upstreamFailures.get(failure).sum();
    }

    /** Inbound connections carried to a local upstream. */
    public long inboundRouted() {
        return inboundRouted.sum();
    }

    /** Connections accepted by an outbound listener and carried to an upstream. */
    public long outboundCarried() {
        return outboundCarried.sum();
    }

    /** Connections accepted by an outbound listener that no upstream took. */
    public long outboundUnroutable() {
        return outboundUnroutable.sum();
    }

    /** Bytes read from downstream peers (clients) and written upstream. */
    public long bytesFromDownstream() {
        return bytesFromDownstream.sum();
    }

    /** Bytes read from upstreams and written back downstream. */
    public long bytesFromUpstream() {
        return bytesFromUpstream.sum();
    }

    /** Relayed connections closed by the idle timeout. */
    public long idleClosed() {
        return idleClosed.sum();
    }

    /** Relayed connections open now. */
    public int active() {
        return active.get();
    }
}
