package io.meshfed.client;

import io.grpc.ManagedChannel;
import io.meshfed.api.HostPort;
import java.net.InetSocketAddress;
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
        return builder(address).sslContext(GrpcSslContexts.configure(
                SpiffeTls.nettyClientBuilder(provider, trust, null), provider.netty()).build()).build();
    }

    /** mTLS with the node's current SVID; the controller must present {@code controllerId}. */
    public static ManagedChannel mtls(String address, TlsCredentials credentials, SpiffeId controllerId, Clock clock)
            throws SSLException {
        TlsProvider provider = TlsProvider.preferred();
        SpiffeTrustManager trust = new SpiffeTrustManager(credentials, PeerAuthorizer.ids(Set.of(controllerId)), clock);
        return builder(address).sslContext(GrpcSslContexts.configure(
                SpiffeTls.nettyClientBuilder(provider, trust, new SpiffeKeyManager(credentials)), provider.netty())
                .build()).keepAliveTime(30, TimeUnit.SECONDS).build();
    }

    private static NettyChannelBuilder builder(String address) {
        InetSocketAddress target;
        try {
            target = HostPort.parse(address);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("controller address '" + address + "' " + e.getMessage());
        }
        // A config snapshot of a large federation (100,000 endpoints, a cluster's attested pods) is several MiB;
        // gRPC's 4 MiB default would leave a subscriber unable to take any new snapshot, revocations included.
        return NettyChannelBuilder.forAddress(target.getHostString(), target.getPort())
                .maxInboundMessageSize(MAX_SNAPSHOT_BYTES);
    }
}
