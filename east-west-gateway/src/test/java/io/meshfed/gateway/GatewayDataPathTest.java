package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.RefusalReason;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
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
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real traffic on loopback: a plain client in the west network reaches hello.demo in the east network through the
 * west gateway's outbound listener and the east gateway's inbound mTLS listener; everything that should be refused
 * at the east gateway is, and the backend never sees those connections.
 */
class GatewayDataPathTest {
    private final TestPki east = TestPki.create("east.acme.mesh", Instant.now());
    private final TestPki west = TestPki.create("west.acme.mesh", Instant.now());
    private final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
    private EchoBackend backend;
    private AtomicInteger backendConnections;
    private Gateway eastGateway;
    private Gateway westGateway;
    private int outboundPort;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        backendConnections = backend.connections();
        eastGateway = Gateway.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"), bundles),
                new InetSocketAddress("127.0.1.1", 0), InetAddress.getByName("127.0.1.1"), Clock.systemUTC());
        westGateway = Gateway.start(TlsCredentials.of(west.svid("/meshfed/gateway/west-gw"), bundles),
                new InetSocketAddress("127.0.2.1", 0), InetAddress.getByName("127.0.2.1"), Clock.systemUTC());
        eastGateway.update(eastSnapshot(List.of("east.acme.mesh", "west.acme.mesh")));
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.2.1"))) {
            outboundPort = probe.getLocalPort();
        }
        westGateway.update(westSnapshot(outboundPort));
    }

    @AfterEach
    void stop() throws IOException {
        eastGateway.close();
        westGateway.close();
        backend.close();
    }

    private ConfigSnapshot eastSnapshot(List<String> allowed) {
        return ConfigSnapshot.newBuilder().setVersion("east-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.port()))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addAllAllowedTrustDomains(allowed))
                .build();
    }

    private ConfigSnapshot westSnapshot(int listenPort) {
        InetSocketAddress eastIn = eastGateway.inboundAddress();
        return ConfigSnapshot.newBuilder().setVersion("west-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                        .setGatewayAddress("127.0.1.1:" + eastIn.getPort())
                                        .setSni(backend.port() + ".hello.demo.svc.meshfed")
                                        .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo")
                        .setServicePort(backend.port()).setListenPort(listenPort))
                .build();
    }

    /** Reads until the gateway closes the connection; true when it did without sending anything back. */
    private static boolean closedWithoutData(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        try {
            return s.getInputStream().read() == -1;
        } catch (IOException e) {
            return true; // reset, or TLS alert
        }
    }

    /** A TLS client to the east gateway with the given identity and SNI. */
    private SSLSocket tlsClient(X509Svid svid, BundleSet trusted, String sni) throws IOException {
        TlsCredentials creds = TlsCredentials.of(svid, trusted);
        var context = SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(), Clock.systemUTC()),
                new SpiffeKeyManager(creds));
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.1.1",
                eastGateway.inboundAddress().getPort());
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(sni)));
        s.setSSLParameters(p);
        return s;
    }

    @Test
    void aPlainClientInWestReachesHelloInEastThroughBothGateways() throws Exception {
        for (int i = 0; i < 3; i++) {
            try (Socket s = new Socket("127.0.2.1", outboundPort)) {
                assertThat(EchoBackend.exchange(s, "hello east " + i)).isEqualTo("hello east " + i);
            }
        }
        assertThat(backendConnections).hasValue(3);
        for (RefusalReason r : RefusalReason.values()) {
            assertThat(eastGateway.refusals(r)).as(r.label()).isZero();
        }
    }

    @Test
    void theInboundPeerIsTheWestGatewayAndHopsAreMutualTls() throws Exception {
        // The east gateway admits a west identity for this SNI; the same route checked by hand with the west SVID.
        String sni = backend.port() + ".hello.demo.svc.meshfed";
        try (SSLSocket s = tlsClient(west.svid("/meshfed/gateway/west-gw"), bundles, sni)) {
            assertThat(EchoBackend.exchange(s, "via mtls")).isEqualTo("via mtls");
            assertThat(SpiffeTls.peerId(s.getSession()))
                    .contains(SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/east-gw"));
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
    }

    @Test
    void plaintextIsRefusedBeforeAnyByteReachesTheWorkload() throws Exception {
        try (Socket s = new Socket("127.0.1.1", eastGateway.inboundAddress().getPort())) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: hello\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(closedWithoutData(s)).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.refusals(RefusalReason.HANDSHAKE) == 1);
        assertThat(backendConnections).hasValue(0);
    }

    @Test
    void aCertificateFromAnUnknownTrustDomainIsRefused() throws Exception {
        TestPki north = TestPki.create("north.acme.mesh", Instant.now());
        String sni = backend.port() + ".hello.demo.svc.meshfed";
        try (SSLSocket s = tlsClient(north.svid("/meshfed/gateway/north-gw"),
                BundleSet.of(east.bundle(), north.bundle()), sni)) {
            boolean refused;
            try {
                s.startHandshake();
                refused = closedWithoutData(s);
            } catch (IOException e) {
                refused = true;
            }
            assertThat(refused).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.refusals(RefusalReason.UNTRUSTED_PEER) == 1);
        assertThat(backendConnections).hasValue(0);
    }

    @Test
    void anSniOfAServiceThatIsNotExportedHereIsRefused() throws Exception {
        try (SSLSocket s = tlsClient(west.svid("/meshfed/gateway/west-gw"), bundles, "8080.secret.demo.svc.meshfed")) {
            s.startHandshake();
            s.getOutputStream().write("x".getBytes(StandardCharsets.UTF_8));
            assertThat(closedWithoutData(s)).isTrue();
        }
        try (SSLSocket s = tlsClient(west.svid("/meshfed/gateway/west-gw"), bundles, "not-a-service.example")) {
            s.startHandshake();
            assertThat(closedWithoutData(s)).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.refusals(RefusalReason.UNKNOWN_SERVICE) == 1
                && eastGateway.refusals(RefusalReason.BAD_SNI) == 1);
        assertThat(backendConnections).hasValue(0);
    }

    @Test
    void aPeerWhoseTrustDomainIsNotAllowedIsRefusedAndAPolicyChangeAppliesLive() throws Exception {
        eastGateway.update(eastSnapshot(List.of("east.acme.mesh"))); // hello.demo no longer exported to west
        try (Socket s = new Socket("127.0.2.1", outboundPort)) {
            s.getOutputStream().write("let me in".getBytes(StandardCharsets.UTF_8));
            assertThat(closedWithoutData(s)).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.refusals(RefusalReason.UNAUTHORIZED) == 1);
        assertThat(backendConnections).hasValue(0);

        eastGateway.update(eastSnapshot(List.of("east.acme.mesh", "west.acme.mesh")));
        try (Socket s = new Socket("127.0.2.1", outboundPort)) {
            assertThat(EchoBackend.exchange(s, "welcome back")).isEqualTo("welcome back");
        }
    }

    /** hello.demo with the given local endpoints (host addresses, all on the backend's port), open to west. */
    private ConfigSnapshot eastSnapshotWithEndpoints(String... hosts) {
        NetworkEndpoints.Builder local = NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true);
        for (String host : hosts) {
            local.addEndpoints(Endpoint.newBuilder().setAddress(host).setPort(backend.port()));
        }
        return ConfigSnapshot.newBuilder().setVersion("east-" + hosts.length)
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo").addNetworks(local))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addAllowedTrustDomains("west.acme.mesh"))
                .build();
    }

    @Test
    void aDeadEndpointIsSkippedAndAllDeadIsRefused() throws Exception {
        // Nothing listens on 127.0.0.2. Round robin starts at either endpoint; every connection reaches the live one.
        eastGateway.update(eastSnapshotWithEndpoints("127.0.0.2", "127.0.0.1"));
        for (int i = 0; i < 4; i++) {
            try (Socket s = new Socket("127.0.2.1", outboundPort)) {
                assertThat(EchoBackend.exchange(s, "try " + i)).isEqualTo("try " + i);
            }
        }
        assertThat(backendConnections).hasValue(4);
        eastGateway.update(eastSnapshotWithEndpoints("127.0.0.2"));
        try (Socket s = new Socket("127.0.2.1", outboundPort)) {
            s.getOutputStream().write("anyone?".getBytes(StandardCharsets.UTF_8));
            assertThat(closedWithoutData(s)).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> eastGateway.refusals(RefusalReason.UPSTREAM_FAILED) == 1);
    }

    @Test
    void sniNamesAreParsedStrictly() {
        assertThat(ServiceSni.tryParse("8080.hello.demo.svc.meshfed")).contains(new ServiceSni(8080, "hello", "demo"));
        assertThat(ServiceSni.tryParse("0.hello.demo.svc.meshfed")).isEmpty();
        assertThat(ServiceSni.tryParse("70000.hello.demo.svc.meshfed")).isEmpty();
        assertThat(ServiceSni.tryParse("08080.hello.demo.svc.meshfed")).as("one name per service port").isEmpty();
        assertThat(ServiceSni.tryParse("8080.Hello.demo.svc.meshfed")).isEmpty();
        assertThat(ServiceSni.tryParse("8080.hello.svc.meshfed")).isEmpty();
        assertThat(ServiceSni.tryParse(null)).isEmpty();
    }

    @Test
    void outboundListenersFollowTheSnapshot() throws Exception {
        westGateway.update(ConfigSnapshot.newBuilder().setVersion("west-2").build());
        assertThat(westGateway.version()).isEqualTo("west-2");
        try (Socket s = new Socket()) {
            boolean refused;
            try {
                s.connect(new InetSocketAddress("127.0.2.1", outboundPort), 2_000);
                refused = closedWithoutData(s);
            } catch (IOException e) {
                refused = true; // listener closed
            }
            assertThat(refused).isTrue();
        }
    }
}
