package io.meshfed.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.MeshProxy;
import io.meshfed.dataplane.ProxySettings;
import io.meshfed.dataplane.ProxyStats;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.dataplane.RouteTable;
import io.meshfed.dataplane.Target;
import io.meshfed.dataplane.Tier;
import io.meshfed.dataplane.Upstream;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent in network west imports hello.demo, which lives in network east: its route names east's gateway's tunnel
 * listener, so the agent opens the tunnel itself, straight to that gateway, with its own SVID; east's gateway sees
 * the agent as the caller and decides on it.
 */
class AgentTunnelTest {
    @TempDir
    Path dir;

    @Test
    void anAgentTunnelsStraightToTheDestinationGatewayAsItself() throws Exception {
        TestPki east = TestPki.create("east.acme.mesh", Instant.now());
        TestPki west = TestPki.create("west.acme.mesh", Instant.now());
        BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
        try (EchoBackend backend = new EchoBackend();
                MeshProxy eastGateway = MeshProxy.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"),
                        bundles), new InetSocketAddress("127.0.1.1", 0), new InetSocketAddress("127.0.1.1", 0),
                        ProxySettings.defaults(), Clock.systemUTC())) {
            ServiceSni sni = new ServiceSni(backend.port(), "hello", "demo");
            eastGateway.update(new RouteTable("east-1", Map.of(sni, new Target("hello.demo:" + backend.port(),
                    List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", backend.port())))),
                    Set.of("west.acme.mesh"))), Map.of()));

            int importPort;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.2.3"))) {
                importPort = probe.getLocalPort();
            }
            Path file = dir.resolve("vm-1.yaml");
            Files.writeString(file, "member: west\nname: vm-1\nnamespace: demo\nstateDir: " + dir.resolve("vm-1")
                    + "\naddress: 127.0.2.3\nimports:\n  - service: hello\n    port: " + backend.port()
                    + "\n    listen: 127.0.2.3:" + importPort + "\n");
            AgentConfig config = AgentConfig.load(file);
            InetSocketAddress tunnel = eastGateway.tunnelAddress().orElseThrow();
            ConfigSnapshot snapshot = ConfigSnapshot.newBuilder().setVersion("west-1").setNetwork("west")
                    .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                            .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                    .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                            .setGatewayAddress("127.0.1.1:" + eastGateway.inboundAddress()
                                                    .orElseThrow().getPort())
                                            .setTunnelAddress("127.0.1.1:" + tunnel.getPort())
                                            .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                    .build();
            try (MeshProxy agent = MeshProxy.start(TlsCredentials.of(west.svid("/ns/demo/vm/vm-1"), bundles), null,
                    ProxySettings.defaults(), Clock.systemUTC())) {
                agent.update(AgentRoutes.of(snapshot, config, "west"));
                for (int i = 0; i < 3; i++) {
                    try (Socket s = new Socket("127.0.2.3", importPort)) {
                        assertThat(EchoBackend.exchange(s, "from the vm " + i)).isEqualTo("from the vm " + i);
                    }
                }
                assertThat(agent.stats().tunnelStreams(Direction.OUTBOUND, ProxyStats.OK)).isEqualTo(3);
                // One tunnel connection per event loop that accepted a connection (at most the pool's size), so a
                // stream's relay stays on one thread.
                assertThat(agent.stats().tunnelConnections(Direction.OUTBOUND))
                        .isBetween(1L, (long) Math.min(3, ProxySettings.defaults().tunnel().poolSize()));
                assertThat(eastGateway.stats().tunnelStreams(Direction.INBOUND, ProxyStats.OK)).isEqualTo(3);
                assertThat(backend.connections()).hasValue(3);
            }
        }
    }
}
