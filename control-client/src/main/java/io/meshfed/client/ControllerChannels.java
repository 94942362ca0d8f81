package io.meshfed.client;

import io.grpc.ManagedChannel;
import io.meshfed.api.ControllerAddresses;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.PinnedRootTrustManager;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/** gRPC channels to the controller: for joining (pinned root, no client certificate) and afterwards (mTLS). */
public final class ControllerChannels {
    /** The largest message a subscriber takes from the controller (its config snapshots). */
    public static final int MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

    private ControllerChannels() {}

    static ManagedChannel forJoin(String address, PinnedRootTrustManager trust) throws SSLException {
        TlsProvider provider = TlsProvider.preferred();
        return builder(java.util.List.of(address)).sslContext(GrpcSslContexts.configure(
                SpiffeTls.nettyClientBuilder(provider, trust, null), provider.netty()).build()).build();
    }

    /** mTLS with the node's current SVID; the controller must present {@code controllerId}. */
    public static ManagedChannel mtls(String address, TlsCredentials credentials, SpiffeId controllerId, Clock clock)
            throws SSLException {
        return mtls(java.util.List.of(address), credentials, controllerId, clock);
    }

    /**
     * mTLS to any of the controller replicas at {@code addresses} (each {@code HOST:PORT}; a name with several
     * addresses counts for all): the channel spreads nodes over them and moves to another when one goes away. Every
     * replica must present {@code controllerId}.
     */
    public static ManagedChannel mtls(java.util.List<String> addresses, TlsCredentials credentials,
            SpiffeId controllerId, Clock clock) throws SSLException {
        TlsProvider provider = TlsProvider.preferred();
        SpiffeTrustManager trust = new SpiffeTrustManager(credentials, PeerAuthorizer.ids(Set.of(controllerId)), clock);
        return builder(addresses).sslContext(GrpcSslContexts.configure(
                SpiffeTls.nettyClientBuilder(provider, trust, new SpiffeKeyManager(credentials)), provider.netty())
                .build()).keepAliveTime(30, TimeUnit.SECONDS).build();
    }

    @SuppressWarnings("deprecation") // nameResolverFactory: the channel's own resolver, not a global registration
    private static NettyChannelBuilder builder(java.util.List<String> addresses) {
        ControllerAddresses resolver = new ControllerAddresses(addresses);
        // A config snapshot of a large federation (100,000 endpoints, a cluster's attested pods) is several MiB;
        // gRPC's 4 MiB default would leave a subscriber unable to take any new snapshot, revocations included.
        return NettyChannelBuilder.forTarget(resolver.target()).nameResolverFactory(resolver)
                .defaultServiceConfig(java.util.Map.of("loadBalancingConfig", java.util.List.of(
                        java.util.Map.of("pick_first", java.util.Map.of("shuffleAddressList", true)))))
                .maxInboundMessageSize(MAX_SNAPSHOT_BYTES);
    }
}
