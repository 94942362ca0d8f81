package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.Locality;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Locality and failover in the data path: the own network's endpoints tiered by the proxy's own locality, with their
 * weights; and, with real sockets, connections that fail over across three networks' tiers in order as each network
 * goes down, and return to the first when it recovers.
 */
class LocalityFailoverTest {
    private static final String EAST = "east.acme.mesh";
    private static final String BACKENDS = "127.0.3.2";
    private MeshProxy proxy;
    private final List<EchoBackend> backends = new java.util.ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        for (EchoBackend b : backends) {
            b.close();
        }
    }

    private static Endpoint endpoint(String address, String locality, int weight) {
        return Endpoint.newBuilder().setAddress(address).setPort(8080).setLocality(locality).setWeight(weight).build();
    }

    @Test
    void theOwnNetworkIsTieredByTheProxysLocalityWithTheEndpointsWeights() {
        Service hello = Service.newBuilder().setName("hello").setNamespace("demo")
                .addNetworks(NetworkEndpoints.newBuilder().setNetwork("home").setLocal(true)
                        .addEndpoints(endpoint("10.0.0.1", "us-east/c", 1))
                        .addEndpoints(endpoint("10.0.0.2", "eu-west/b", 2))
                        .addEndpoints(endpoint("10.0.0.3", "eu-west/a", 5))
                        .addEndpoints(endpoint("10.0.0.4", "eu-west/a", 0))) // 0: weight 1
                .build();

        List<Tier> tiers = SnapshotTargets.tiers(hello, 8080, true, Locality.parse("eu-west/a"));

        assertThat(tiers).extracting(Tier::network).containsExactly("home", "home", "home");
        assertThat(tiers.get(0).upstreams()).extracting(Upstream::host).containsExactly("10.0.0.3", "10.0.0.4");
        assertThat(tiers.get(0).weights()).containsExactly(5, 1);
        assertThat(tiers.get(1).upstreams()).extracting(Upstream::host).containsExactly("10.0.0.2");
        assertThat(tiers.get(2).upstreams()).extracting(Upstream::host).containsExactly("10.0.0.1");

        // A proxy that does not know its locality balances over the whole own network, in the snapshot's order.
        List<Tier> one = SnapshotTargets.tiers(hello, 8080, true);
        assertThat(one).singleElement().satisfies(t -> assertThat(t.upstreams()).hasSize(4));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.3.1"))) {
            return s.getLocalPort();
        }
    }

    private EchoBackend backend(int port) throws IOException {
        // Below the ephemeral ports: a closed backend's port must refuse (see belowEphemeralPorts).
        EchoBackend b = port == 0 ? EchoBackend.belowEphemeralPorts(BACKENDS) : new EchoBackend(BACKENDS, port);
        backends.add(b);
        return b;
    }

    private static void call(InetSocketAddress a, String text) throws IOException {
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            assertThat(EchoBackend.exchange(s, text)).isEqualTo(text);
        }
    }

    @Test
    void connectionsFailOverNetworkByNetworkAndReturnWhenTheFirstRecovers() throws Exception {
        TestPki east = TestPki.create(EAST, Instant.now());
        ProxySettings d = ProxySettings.defaults();
        proxy = MeshProxy.start(TlsCredentials.of(east.svid("/meshfed/gateway/gw"), BundleSet.of(east.bundle())),
                null, new ProxySettings(d.balancing(), d.connectTimeout(), d.idleTimeout(), d.drainTimeout(),
                        Duration.ofMillis(200), Duration.ofMillis(400)), Clock.systemUTC());
        EchoBackend home = backend(0);
        EchoBackend zulu = backend(0);
        EchoBackend alpha = backend(0);
        int homePort = home.port();
        InetSocketAddress listen = new InetSocketAddress("127.0.3.1", freePort());
        proxy.update(new RouteTable("v1", Map.of(), Map.of(listen, new Target("hello.demo:8080", List.of(
                new Tier("home", List.of(Upstream.plain("home", BACKENDS, homePort))),
                new Tier("zulu", List.of(Upstream.plain("zulu", BACKENDS, zulu.port()))),
                new Tier("alpha", List.of(Upstream.plain("alpha", BACKENDS, alpha.port())))), Set.of()))));

        call(listen, "all up");
        assertThat(home.connections()).hasValue(1);
        assertThat(zulu.connections()).hasValue(0);

        home.close(); // the first network goes down: the next tier takes the connection, none fails
        call(listen, "home down");
        assertThat(zulu.connections()).hasValue(1);
        assertThat(alpha.connections()).hasValue(0);

        zulu.close();
        call(listen, "zulu down too");
        assertThat(alpha.connections()).hasValue(1);

        EchoBackend back = backend(homePort); // home recovers: once its ejection ends, it is tried first again
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            call(listen, "is home back?");
            return back.connections().get() > 0;
        });
        int alphaBefore = alpha.connections().get();
        call(listen, "home again");
        assertThat(back.connections()).hasValue(2);
        assertThat(alpha.connections()).hasValue(alphaBefore);
    }
}
