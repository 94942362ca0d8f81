package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What the tunnel listener decides each stream with, shared with the SNI listener: the same {@link InboundPolicy}
 * object and the same registry of admitted callers (re-checked on every new table), the same routes, the revoked identities (a gateway that forwards must not be revoked itself), the trust domains whose gateways may
 * forward a caller's identity (the current table's), the proxy's
 * {@link Dialer} for the local upstream, its counters, how it joins a stream to its upstream, and the clock a
 * connection's peer SVID expiry is checked against on every new stream.
 */
record TunnelInbound(InboundPolicy policy, CallerConnections admitted,
        Function<ServiceSni, Optional<Target>> routes, Predicate<SpiffeId> revoked,
        java.util.function.Supplier<java.util.Set<String>> forwarders, Dialer dialer, ProxyStats stats,
        BiConsumer<Channel, Channel> relay, java.time.Clock clock) {
    TunnelInbound {
        requireNonNull(forwarders, "forwarders");
        requireNonNull(clock, "clock");
        requireNonNull(policy, "policy");
        requireNonNull(admitted, "admitted");
        requireNonNull(routes, "routes");
        requireNonNull(revoked, "revoked");
        requireNonNull(dialer, "dialer");
        requireNonNull(stats, "stats");
        requireNonNull(relay, "relay");
    }
}
