package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two real proxies on loopback: an "agent" with an mTLS inbound listener in front of an echo workload, and a
 * "gateway" whose outbound listener carries plain TCP to it over mTLS. Covers the agent hop's identity check,
 * passive ejection with failover to the next network, idle timeouts and drain.
 */
class MeshProxyTest {
    private static final String EAST = "east.acme.mesh";
    private final TestPki east = TestPki.create(EAST, Instant.now());
    private final SpiffeId agentId = SpiffeId.parse("spiffe://" + EAST + "/ns/demo/vm/vm-1");
    private final ServiceSni sni = new ServiceSni(8080, "hello", "demo");
    private EchoBackend backend;
    private MeshProxy agent;
    private MeshProxy gateway;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        BundleSet bundles = BundleSet.of(east.bundle());
        agent = MeshProxy.start(TlsCredentials.of(east.svid(agentId.path()), bundles),
                new InetSocketAddress("127.0.1.2", 0), ProxySettings.defaults(), Clock.systemUTC());
        agent.update(new RouteTable("agent-1", Map.of(sni, new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", backend.port())))),
                Set.of(EAST))), Map.of()));
    }

    private MeshProxy gateway(ProxySettings settings) throws Exception {
        gateway = MeshProxy.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"), BundleSet.of(east.bundle())),
                null, settings, Clock.systemUTC());
        return gateway;
    }

    @AfterEach
    void stop() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        agent.close();
        backend.close();
    }

    private Upstream agentHop(SpiffeId identity) {
        InetSocketAddress in = agent.inboundAddress().orElseThrow();
        return Upstream.agent("east", in.getHostString(), in.getPort(), sni.toString(), identity);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.3.1"))) {
            return s.getLocalPort();
        }
    }

    private InetSocketAddress listen(Target target) throws IOException {
        InetSocketAddress address = new InetSocketAddress("127.0.3.1", freePort());
        gateway.update(new RouteTable("gw-1", Map.of(), Map.of(address, target)));
        return address;
    }

    private static Socket connect(InetSocketAddress a) throws IOException {
        return new Socket(a.getAddress(), a.getPort());
    }

    @Test
    void theHopToAnAgentIsMutualTlsAndTheAgentMustBeWhoTheCatalogNames() throws Exception {
        gateway(ProxySettings.defaults());
        InetSocketAddress right = listen(new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(agentHop(agentId)))), Set.of()));
        try (Socket s = connect(right)) {
            assertThat(EchoBackend.exchange(s, "through the agent")).isEqualTo("through the agent");
        }
        assertThat(agent.stats().inboundRouted()).isEqualTo(1);
        assertThat(gateway.stats().outboundCarried()).isEqualTo(1);

        SpiffeId someoneElse = SpiffeId.parse("spiffe://" + EAST + "/ns/demo/vm/vm-2");
        InetSocketAddress wrong = listen(new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(agentHop(someoneElse)))), Set.of()));
        long bytesBefore = agent.stats().bytesFromDownstream();
        try (Socket s = connect(wrong)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("not for an impostor".getBytes(StandardCharsets.UTF_8));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(gateway.stats().upstreamFailures(UpstreamFailure.IDENTITY)).isEqualTo(1);
        assertThat(gateway.stats().outboundUnroutable()).isEqualTo(1);
        assertThat(gateway.stats().outboundCarried()).isEqualTo(1);
        // Nothing the client sent was carried to the peer that failed the identity check.
        assertThat(agent.stats().bytesFromDownstream()).isEqualTo(bytesBefore);
    }

    @Test
    void aRevokedPeerIsRefusedByTheInboundListenerWhileItsSvidIsStillValid() throws Exception {
        gateway(ProxySettings.defaults());
        InetSocketAddress a = listen(new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(agentHop(agentId)))), Set.of()));
        agent.update(new RouteTable("agent-2", agent.routes().inbound(), Map.of(),
                Set.of("spiffe://" + EAST + "/meshfed/gateway/east-gw")));

        long bytesBefore = agent.stats().bytesFromDownstream();
        try (Socket s = connect(a)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("from a revoked gateway".getBytes(StandardCharsets.UTF_8));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(agent.stats().refusals(RefusalReason.REVOKED)).isEqualTo(1);
        assertThat(agent.stats().bytesFromDownstream()).isEqualTo(bytesBefore);

        // Another identity, or the same once the revocation is gone from the config, gets through.
        agent.update(new RouteTable("agent-3", agent.routes().inbound(), Map.of(),
                Set.of("spiffe://" + EAST + "/meshfed/gateway/another-gw")));
        try (Socket s = connect(a)) {
            assertThat(EchoBackend.exchange(s, "after")).isEqualTo("after");
        }
    }

    @Test
    void aDeadEndpointIsEjectedAndConnectionsFailOverToTheNextNetwork() throws Exception {
        ProxySettings d = ProxySettings.defaults();
        // A long ejection, so that a slow machine cannot let it lapse between the three connections.
        gateway(new ProxySettings(d.balancing(), d.connectTimeout(), d.idleTimeout(), d.drainTimeout(),
                Duration.ofSeconds(60), Duration.ofSeconds(120)));
        Upstream dead = Upstream.plain("east", "127.0.0.1", freePort());
        Upstream alive = Upstream.plain("west", "127.0.0.1", backend.port());
        InetSocketAddress a = listen(new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(dead)), new Tier("west", List.of(alive))), Set.of()));
        for (int i = 0; i < 3; i++) {
            try (Socket s = connect(a)) {
                assertThat(EchoBackend.exchange(s, "attempt " + i)).isEqualTo("attempt " + i);
            }
        }
        // Only the first connection tried the dead endpoint; the next two skipped it while it was ejected.
        assertThat(gateway.stats().upstreamFailures(UpstreamFailure.CONNECT)).isEqualTo(1);
        assertThat(gateway.ejectedUpstreams()).isEqualTo(1);
        assertThat(backend.connections()).hasValue(3);
    }

    @Test
    void aConnectionWithNoTrafficForTheIdleTimeoutIsClosedBothWays() throws Exception {
        gateway(ProxySettings.defaults().withIdleTimeout(Duration.ofSeconds(1)));
        InetSocketAddress a = listen(new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", backend.port())))), Set.of()));
        try (Socket s = connect(a)) {
            assertThat(EchoBackend.exchange(s, "ping")).isEqualTo("ping");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(gateway.stats().idleClosed()).isGreaterThanOrEqualTo(1);
        assertThat(gateway.stats().bytesFromDownstream()).isEqualTo(4);
        assertThat(gateway.stats().bytesFromUpstream()).isEqualTo(4);
    }

    @Test
    void closeStopsAcceptingAndLetsOpenConnectionsFinish() throws Exception {
        gateway(ProxySettings.defaults().withDrainTimeout(Duration.ofSeconds(20)));
        InetSocketAddress a = listen(new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", backend.port())))), Set.of()));
        try (Socket open = connect(a)) {
            assertThat(EchoBackend.exchange(open, "before")).isEqualTo("before");
            CompletableFuture<Void> closing = CompletableFuture.runAsync(gateway::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (Socket late = connect(a)) {
                    return false;
                } catch (IOException refused) {
                    return true;
                }
            });
            assertThat(closing).isNotDone();
            assertThat(EchoBackend.exchange(open, "while draining")).isEqualTo("while draining");
            open.close();
            closing.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        gateway = null;
    }
}
