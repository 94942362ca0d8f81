package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dialer accepts an mTLS upstream only when its verified SPIFFE ID is one the snapshot names for it. Real
 * proxies on loopback: east's gateway dials west's gateway, and an impostor: a gateway of a second member in west's
 * network (its own trust domain, trusted by the bundle set, same gateway path), standing where west's gateway
 * address points in attack 4 of issue 12.
 */
class PinnedDialerTest {
    private static final String EAST = "east.acme.mesh";
    private final TestPki east = TestPki.create(EAST, Instant.now());
    private final TestPki west = TestPki.create("west.acme.mesh", Instant.now());
    private final TestPki westB = TestPki.create("west-b.acme.mesh", Instant.now());
    private final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle(), westB.bundle());
    private final SpiffeId westGw = SpiffeId.parse("spiffe://west.acme.mesh/meshfed/gateway/west-gw");
    private final SpiffeId impostorId = SpiffeId.parse("spiffe://west-b.acme.mesh/meshfed/gateway/west-gw");
    private final ServiceSni sni = new ServiceSni(8080, "hello", "demo");
    private EchoBackend backend;
    private MeshProxy legit;
    private MeshProxy impostor;
    private MeshProxy dialer;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private PrintStream stderr;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        legit = inbound(west, "127.0.1.2");
        impostor = inbound(westB, "127.0.1.3");
        dialer = MeshProxy.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"), bundles), null,
                ProxySettings.defaults(), Clock.systemUTC());
        stderr = System.err;
        System.setErr(new PrintStream(new Tee(stderr, log), true, StandardCharsets.UTF_8));
    }

    /** A gateway whose inbound listener carries hello.demo to the echo backend for east's callers. */
    private MeshProxy inbound(TestPki pki, String host) throws Exception {
        MeshProxy p = MeshProxy.start(TlsCredentials.of(pki.svid("/meshfed/gateway/west-gw"), bundles),
                new InetSocketAddress(host, 0), ProxySettings.defaults(), Clock.systemUTC());
        p.update(new RouteTable(pki.trustDomain() + "-1", Map.of(sni, new Target("hello.demo:8080",
                List.of(new Tier("west", List.of(Upstream.plain("west", "127.0.0.1", backend.port())))),
                Set.of(EAST))), Map.of()));
        return p;
    }

    @AfterEach
    void stop() throws IOException {
        System.setErr(stderr);
        dialer.close();
        legit.close();
        impostor.close();
        backend.close();
    }

    private static String address(MeshProxy p) {
        InetSocketAddress a = p.inboundAddress().orElseThrow();
        return a.getHostString() + ":" + a.getPort();
    }

    private Upstream gatewayHop(MeshProxy p, Set<SpiffeId> identities) {
        InetSocketAddress a = p.inboundAddress().orElseThrow();
        return Upstream.gateway("west", a.getHostString(), a.getPort(), sni.toString(), identities);
    }

    private InetSocketAddress listen(List<Tier> tiers) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.3.1"))) {
            port = s.getLocalPort();
        }
        InetSocketAddress address = new InetSocketAddress("127.0.3.1", port);
        dialer.update(new RouteTable("east-1", Map.of(), Map.of(address, new Target("hello.demo:8080", tiers,
                Set.of()))));
        return address;
    }

    private static Socket connect(InetSocketAddress a) throws IOException {
        return new Socket(a.getAddress(), a.getPort());
    }

    @Test
    void aGatewayPresentingAnIdentityTheSnapshotDoesNotNameIsRefusedAndTheNextUpstreamIsTried() throws Exception {
        // As the snapshot says it: the impostor's address first, then west's gateway, both pinned to west's ID.
        Service hello = Service.newBuilder().setName("hello").setNamespace("demo")
                .addNetworks(NetworkEndpoints.newBuilder().setNetwork("west").setLocal(false)
                        .addRoutes(GatewayRoute.newBuilder().setPort(8080).setGatewayAddress(address(impostor))
                                .setSni(sni.toString()).addIdentities(westGw.toString())))
                .addNetworks(NetworkEndpoints.newBuilder().setNetwork("west-2").setLocal(false)
                        .addRoutes(GatewayRoute.newBuilder().setPort(8080).setGatewayAddress(address(legit))
                                .setSni(sni.toString()).addIdentities(westGw.toString())))
                .build();
        List<Tier> tiers = SnapshotTargets.tiers(hello, 8080, true);
        assertThat(tiers).flatExtracting(Tier::upstreams).extracting(Upstream::identities)
                .containsOnly(Set.of(westGw));

        try (Socket s = connect(listen(tiers))) {
            assertThat(EchoBackend.exchange(s, "for west only")).isEqualTo("for west only");
        }
        assertThat(dialer.stats().upstreamFailures(UpstreamFailure.IDENTITY)).isEqualTo(1);
        assertThat(dialer.stats().outboundCarried()).isEqualTo(1);
        assertThat(legit.stats().inboundRouted()).isEqualTo(1);
        assertThat(impostor.stats().bytesFromDownstream()).as("nothing reached the impostor").isZero();
        assertThat(dialer.ejectedUpstreams()).isEqualTo(1);
        assertThat(log.toString(StandardCharsets.UTF_8))
                .contains("identity failed (the peer presented " + impostorId + ", expected one of [" + westGw + "])");
    }

    @Test
    void aGatewayWhoseIdentityIsInTheSetIsAccepted() throws Exception {
        SpiffeId other = SpiffeId.parse("spiffe://west.acme.mesh/meshfed/gateway/west-gw-2");
        try (Socket s = connect(listen(List.of(new Tier("west", List.of(gatewayHop(legit, Set.of(other, westGw)))))))) {
            assertThat(EchoBackend.exchange(s, "hello west")).isEqualTo("hello west");
        }
        assertThat(dialer.stats().upstreamFailures(UpstreamFailure.IDENTITY)).isZero();
        assertThat(legit.stats().inboundRouted()).isEqualTo(1);
    }

    @Test
    void anEmptySetAcceptsNobody() throws Exception {
        try (Socket s = connect(listen(List.of(new Tier("west", List.of(gatewayHop(legit, Set.of()))))))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("anyone there?".getBytes(StandardCharsets.UTF_8));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(dialer.stats().upstreamFailures(UpstreamFailure.IDENTITY)).isEqualTo(1);
        assertThat(dialer.stats().outboundUnroutable()).isEqualTo(1);
        assertThat(legit.stats().bytesFromDownstream()).isZero();
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("identity failed (the peer presented " + westGw
                + ", expected none (the snapshot names no identity for this upstream))");
    }

    /** Writes to both streams: the test keeps the log lines it asserts and the console still shows them. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] bytes, int off, int len) throws IOException {
            a.write(bytes, off, len);
            b.write(bytes, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
