package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.ProxySettings;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.MutableClock;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pooled tunnel must not outlive its peer's SVID: once the certificate west's gateway presented at the handshake
 * has expired (by east's clock), east refuses every new stream on that connection and closes it, so a stolen SVID
 * kept alive in an open tunnel stops at its notAfter exactly as it would on the SNI listener.
 */
class TunnelPeerExpiryTest {
    private final Instant start = Instant.now();
    private final TestPki east = TestPki.create("east.acme.mesh", start);
    private final TestPki west = TestPki.create("west.acme.mesh", start);
    private final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
    private final MutableClock eastClock = new MutableClock(start);
    private EchoBackend backend;
    private Gateway eastGateway;
    private Gateway westGateway;
    private int outboundPort;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        eastGateway = Gateway.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"), bundles),
                new InetSocketAddress("127.0.1.1", 0), new InetSocketAddress("127.0.1.1", 0),
                InetAddress.getByName("127.0.1.1"), ProxySettings.defaults(), eastClock);
        westGateway = Gateway.start(TlsCredentials.of(west.svid("/meshfed/gateway/west-gw"), bundles),
                new InetSocketAddress("127.0.2.1", 0), InetAddress.getByName("127.0.2.1"), Clock.systemUTC());
        eastGateway.update(ConfigSnapshot.newBuilder().setVersion("east-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.port()))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addAllowedTrustDomains("west.acme.mesh"))
                .build());
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.2.1"))) {
            outboundPort = probe.getLocalPort();
        }
        westGateway.update(ConfigSnapshot.newBuilder().setVersion("west-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                        .setGatewayAddress("127.0.1.1:" + eastGateway.inboundAddress().getPort())
                                        .setSni(backend.port() + ".hello.demo.svc.meshfed")
                                        .setTunnelAddress("127.0.1.1:" + eastGateway.tunnelAddress().orElseThrow()
                                                .getPort())
                                        .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo")
                        .setServicePort(backend.port()).setListenPort(outboundPort))
                .build());
    }

    @AfterEach
    void stop() throws IOException {
        westGateway.close();
        eastGateway.close();
        backend.close();
    }

    @Test
    void aNewStreamOnATunnelWhosePeerSvidHasExpiredIsRefusedAndTheConnectionCloses() throws Exception {
        try (Socket s = new Socket("127.0.2.1", outboundPort)) {
            assertThat(EchoBackend.exchange(s, "before expiry")).isEqualTo("before expiry");
        }
        assertThat(eastGateway.stats().tunnelConnections(Direction.INBOUND)).isEqualTo(1);

        eastClock.advance(Duration.ofDays(400)); // past any test SVID's notAfter
        try (Socket s = new Socket("127.0.2.1", outboundPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("after expiry".getBytes(StandardCharsets.UTF_8));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(eastGateway.stats().tunnelStreams(Direction.INBOUND, "untrusted_peer")).isEqualTo(1);
        assertThat(backend.connections()).as("nothing after expiry reached the workload").hasValue(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.stats().activeStreams() == 0);
    }
}
