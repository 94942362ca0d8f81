package io.meshfed.dataplane;

import java.util.EnumMap;
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
        IDENTITY;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

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
