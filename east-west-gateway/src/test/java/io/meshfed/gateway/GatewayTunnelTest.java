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
import io.meshfed.dataplane.ProxyStats;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.dataplane.RefusalReason;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two gateways fed with snapshots as the controller writes them: west's route to hello.demo names east's tunnel
 * listener, so west's outbound listener carries each connection as a stream of a pooled tunnel, and east decides the
 * stream with the same authorization as its SNI listener (here: an unexport refuses it before the workload).
 */
class GatewayTunnelTest {
    private final TestPki east = TestPki.create("east.acme.mesh", Instant.now());
    private final TestPki west = TestPki.create("west.acme.mesh", Instant.now());
    private final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
    private EchoBackend backend;
    private Gateway eastGateway;
    private Gateway westGateway;
    private int outboundPort;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        eastGateway = Gateway.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"), bundles),
                new InetSocketAddress("127.0.1.1", 0), new InetSocketAddress("127.0.1.1", 0),
                InetAddress.getByName("127.0.1.1"), ProxySettings.defaults(), Clock.systemUTC());
        westGateway = Gateway.start(TlsCredentials.of(west.svid("/meshfed/gateway/west-gw"), bundles),
                new InetSocketAddress("127.0.2.1", 0), InetAddress.getByName("127.0.2.1"), Clock.systemUTC());
        eastGateway.update(eastSnapshot(List.of("west.acme.mesh")));
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.2.1"))) {
            outboundPort = probe.getLocalPort();
        }
        westGateway.update(westSnapshot());
    }

    @AfterEach
    void stop() throws IOException {
        westGateway.close();
        eastGateway.close();
        backend.close();
    }

    private ConfigSnapshot eastSnapshot(List<String> allowed) {
        return ConfigSnapshot.newBuilder().setVersion("east-" + allowed)
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.port()))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addAllAllowedTrustDomains(allowed))
                .build();
    }

    private ConfigSnapshot westSnapshot() {
        InetSocketAddress eastIn = eastGateway.inboundAddress();
        InetSocketAddress eastTunnel = eastGateway.tunnelAddress().orElseThrow();
        return ConfigSnapshot.newBuilder().setVersion("west-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                        .setGatewayAddress("127.0.1.1:" + eastIn.getPort())
                                        .setSni(backend.port() + ".hello.demo.svc.meshfed")
                                        .setTunnelAddress("127.0.1.1:" + eastTunnel.getPort())
                                        .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo")
                        .setServicePort(backend.port()).setListenPort(outboundPort))
                .build();
    }

    @Test
    void westReachesEastThroughItsPooledTunnelsAndAnUnexportRefusesTheStreamBeforeTheWorkload() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Socket s = new Socket("127.0.2.1", outboundPort)) {
                assertThat(EchoBackend.exchange(s, "tunnelled " + i)).isEqualTo("tunnelled " + i);
            }
        }
        assertThat(backend.connections()).hasValue(20);
        assertThat(westGateway.stats().tunnelStreams(Direction.OUTBOUND, ProxyStats.OK)).isEqualTo(20);
        // Accepted connections go round west's event loops, and each loop opens a tunnel connection of its own
        // (so its streams are relayed without a thread hand-off), at most the pool's size: 20 connections, no more
        // handshakes than that.
        long tunnels = westGateway.stats().tunnelConnections(Direction.OUTBOUND);
        assertThat(tunnels).isBetween(1L, (long) ProxySettings.defaults().tunnel().poolSize());
        assertThat(eastGateway.stats().tunnelStreams(Direction.INBOUND, ProxyStats.OK)).isEqualTo(20);
        assertThat(eastGateway.stats().inboundRouted()).isEqualTo(20);
        assertThat(eastGateway.stats().handshakes(ProxyStats.Side.SERVER)).isEqualTo(tunnels);

        eastGateway.update(eastSnapshot(List.of()));
        try (Socket s = new Socket("127.0.2.1", outboundPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("after unexport".getBytes(StandardCharsets.UTF_8));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(eastGateway.refusals(RefusalReason.UNAUTHORIZED)).isEqualTo(1);
        assertThat(eastGateway.stats().tunnelStreams(Direction.INBOUND, "unauthorized")).isEqualTo(1);
        assertThat(westGateway.stats().upstreamFailures(ProxyStats.UpstreamFailure.FORBIDDEN)).isEqualTo(1);
        assertThat(westGateway.stats().outboundUnroutable()).isEqualTo(1);
        assertThat(backend.connections()).hasValue(20);
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.stats().activeStreams() == 0);
    }
}
