package io.meshfed.dataplane;

import static io.meshfed.dataplane.TunnelPair.metric;
import static io.meshfed.dataplane.TunnelTestClient.connectTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.TunnelHeaders;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.dataplane.TunnelTestClient.Answer;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input to east's tunnel listener, from real TLS clients with real certificates: each stream is refused with its
 * status, its reason in {@code meshfed-refusal} and a counter, the listener keeps serving, and no byte of a refused
 * stream reaches the workload. And the tunnel listener decides with the same policy as the SNI listener.
 */
class TunnelRefusalTest {
    private TunnelPair pair;

    @BeforeEach
    void start() throws Exception {
        ProxySettings receiver = ProxySettings.defaults()
                .withTunnel(TunnelSettings.defaults().withMaxConcurrentStreams(3));
        pair = new TunnelPair(receiver, ProxySettings.defaults(), Set.of(TunnelPair.WEST));
    }

    @AfterEach
    void stop() throws IOException {
        pair.close();
    }

    private TunnelTestClient client(X509Svid svid) throws Exception {
        return TunnelTestClient.connect(svid, pair.bundles, pair.tunnel());
    }

    private String authority() {
        return "hello.demo.svc.meshfed:" + pair.backend.port();
    }

    private void assertRefused(Answer answer, int status, RefusalReason reason) throws Exception {
        assertThat(answer.status()).isEqualTo(status);
        assertThat(answer.refusal()).isEqualTo(reason.label());
        assertThat(pair.receiver.stats().refusals(reason)).isEqualTo(1);
        assertThat(metric(pair.receiverHttp, "meshfed_tunnel_streams_total{direction=\"inbound\",result=\""
                + reason.label() + "\"}")).isEqualTo(1);
        assertThat(metric(pair.receiverHttp, "meshfed_gateway_refusals_total{reason=\"" + reason.label() + "\"}"))
                .isEqualTo(1);
    }

    @Test
    void aMalformedAuthorityIsRefusedWith400AndTheConnectionKeepsServing() throws Exception {
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            assertRefused(c.open(connectTo(pair.sni.toString())), 400, RefusalReason.BAD_AUTHORITY);
            assertThat(c.open(connectTo("hello.demo:" + pair.backend.port())).refusal()).isEqualTo("bad_authority");
            Answer ok = c.open(connectTo(authority()));
            assertThat(ok.status()).isEqualTo(200);
            ok.send("still serving");
            assertThat(ok.receive(13)).isEqualTo("still serving");
        }
        assertThat(pair.backend.connections()).hasValue(1);
    }

    @Test
    void aStreamToAServiceNotExportedHereIsRefusedWith404() throws Exception {
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            assertRefused(c.open(connectTo("other.demo.svc.meshfed:" + pair.backend.port())), 404,
                    RefusalReason.UNKNOWN_SERVICE);
        }
        assertThat(pair.backend.connections()).hasValue(0);
    }

    @Test
    void aMethodOtherThanConnectIsRefusedWith405() throws Exception {
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            assertRefused(c.open(connectTo(authority()).method("GET").scheme("https").path("/")), 405,
                    RefusalReason.METHOD_NOT_ALLOWED);
        }
        assertThat(pair.backend.connections()).hasValue(0);
    }

    @Test
    void aGatewayMaySpeakOnlyForAWorkloadOfItsOwnTrustDomain() throws Exception {
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            // Another trust domain's workload, even one the service is open to: a forgery, not a downgrade.
            assertRefused(c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://north.acme.mesh/ns/shop/sa/cart")), 403, RefusalReason.FORGED_IDENTITY);
            Answer malformed = c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY, "not a spiffe id"));
            assertThat(malformed.refusal()).as(malformed.toString()).isEqualTo("forged_identity");
            assertThat(c.open(connectTo(authority()).add(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/cart").add(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/admin")).refusal()).isEqualTo("forged_identity");
            Answer gateway = c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/meshfed/gateway/another-gw"));
            assertThat(gateway.refusal()).as(gateway.toString()).isEqualTo("forged_identity");

            // A pod of its own member: accepted, and the policy decides on the pod.
            try (CapturedStderr log = new CapturedStderr()) {
                Answer pod = c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                        "spiffe://west.acme.mesh/ns/shop/sa/cart"));
                assertThat(pod.status()).isEqualTo(200);
                pod.send("for the cart");
                assertThat(pod.receive(12)).isEqualTo("for the cart");
                pod.stream().close(); // its access line is written when the stream ends
                await().atMost(java.time.Duration.ofSeconds(10)).until(() -> log.accessLines().stream().anyMatch(l ->
                        l.path("caller").asText().equals("spiffe://west.acme.mesh/ns/shop/sa/cart via " + pair.westGw)
                                && l.path("service").asText().equals(pair.name())
                                && l.path("transport").asText().equals("plain")));
            }
        }
        assertThat(pair.receiver.stats().refusals(RefusalReason.FORGED_IDENTITY)).isEqualTo(4);
        assertThat(pair.backend.connections()).hasValue(1);
    }

    @Test
    void onlyAGatewayMayForwardAnIdentity() throws Exception {
        try (TunnelTestClient agent = client(pair.west.svid("/ns/shop/vm/vm-1"))) {
            assertThat(agent.open(connectTo(authority())).status()).as("the agent for itself").isEqualTo(200);
            assertRefused(agent.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/cart")), 403, RefusalReason.FORGED_IDENTITY);
        }
        try (TunnelTestClient edge = client(pair.west.svid("/meshfed/edge/edge-1"))) {
            assertThat(edge.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/cart")).refusal()).isEqualTo("forged_identity");
        }
        assertThat(pair.backend.connections()).hasValue(1);
    }

    @Test
    void onlyTheGatewayOfAKubernetesMemberMayForward() throws Exception {
        // west is now a VM member's trust domain (not among the forwarders): its gateway has no pods to attest, and
        // a workload ID in its trust domain would be one no workload has, which an allow pattern written for the
        // member's agents (spiffe://west.acme.mesh/ns/shop/*) would match.
        pair.allow(Set.of(TunnelPair.WEST), Set.of("north.acme.mesh"));
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            Answer pod = c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/cart"));
            assertRefused(pod, 403, RefusalReason.FORGED_IDENTITY);
            assertThat(c.open(connectTo(authority())).status()).as("the same gateway for itself").isEqualTo(200);
        }
        assertThat(pair.receiver.stats().refusals(RefusalReason.FORGED_IDENTITY)).isEqualTo(1);
        assertThat(pair.backend.connections()).as("only the gateway's own stream reached the workload").hasValue(1);

        pair.allow(Set.of(TunnelPair.WEST), Set.of(TunnelPair.WEST));
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            assertThat(c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/cart")).status()).as("west a Kubernetes member again")
                    .isEqualTo(200);
        }
    }

    @Test
    void onePeerIdentityHoldsAtMostItsShareOfTunnelConnections() throws Exception {
        X509Svid stolen = pair.west.svid(pair.westGw.path());
        List<TunnelTestClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < TunnelPeerConnections.MAX_PER_PEER; i++) {
                held.add(client(stolen));
            }
            // One more from the same identity: closed after the handshake, with its reason counted.
            assertThatThrownBy(() -> client(stolen)).hasRootCauseMessage(
                    "the listener closed the connection before its SETTINGS");
            assertThat(pair.receiver.stats().refusals(RefusalReason.CONNECTION_LIMIT)).isEqualTo(1);
            assertThat(metric(pair.receiverHttp,
                    "meshfed_gateway_refusals_total{reason=\"connection_limit\"}")).isEqualTo(1.0);
            // Another identity is not held up by it, and the held connections still carry streams.
            try (TunnelTestClient other = client(pair.west.svid("/ns/shop/vm/vm-1"))) {
                assertThat(other.open(connectTo(authority())).status()).isEqualTo(200);
            }
            assertThat(held.get(0).open(connectTo(authority())).status()).isEqualTo(200);
            // A closed connection frees its place.
            held.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                try (TunnelTestClient again = client(stolen)) {
                    assertThat(again.open(connectTo(authority())).status()).isEqualTo(200);
                }
            });
        } finally {
            held.forEach(TunnelTestClient::close);
        }
    }

    @Test
    void aRevokedGatewayIsRefusedEvenWhenItSpeaksForAPod() throws Exception {
        pair.receiver.update(new RouteTable("east-revoked", pair.receiver.routes().inbound(), java.util.Map.of(),
                Set.of(pair.westGw.toString()), Set.of(TunnelPair.WEST)));
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            assertRefused(c.open(connectTo(authority()).set(TunnelHeaders.FORWARDED_IDENTITY,
                    "spiffe://west.acme.mesh/ns/shop/sa/cart")), 403, RefusalReason.REVOKED);
        }
        assertThat(pair.backend.connections()).hasValue(0);
    }

    @Test
    void aFloodOverTheStreamLimitIsRefusedByTheProtocolAndCounted() throws Exception {
        try (TunnelTestClient c = client(pair.west.svid(pair.westGw.path()))) {
            c.ignoreStreamLimit();
            List<CompletableFuture<Answer>> answers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                answers.add(c.openAsync(connectTo(authority())));
            }
            List<Answer> accepted = new ArrayList<>();
            int refused = 0;
            for (CompletableFuture<Answer> a : answers) {
                Answer answer = a.get(10, TimeUnit.SECONDS);
                if (answer.status() == 200) {
                    accepted.add(answer);
                } else {
                    assertThat(answer.resetCode()).isEqualTo(Http2Error.REFUSED_STREAM.code());
                    refused++;
                }
            }
            assertThat(accepted).hasSize(3);
            assertThat(refused).isEqualTo(7);
            assertThat(pair.receiver.stats().refusals(RefusalReason.STREAM_LIMIT)).isEqualTo(7);
            assertThat(metric(pair.receiverHttp, "meshfed_tunnel_streams_total{direction=\"inbound\",result=\""
                    + "stream_limit\"}")).isEqualTo(7);
            // No crash: the accepted streams carry bytes, and once they end the connection takes new ones.
            accepted.get(0).send("accepted");
            assertThat(accepted.get(0).receive(8)).isEqualTo("accepted");
            accepted.forEach(a -> a.stream().close());
            await().atMost(Duration.ofSeconds(10)).until(() -> pair.receiver.stats().activeStreams() == 0);
            assertThat(c.open(connectTo(authority())).status()).isEqualTo(200);
            assertThat(c.isOpen()).isTrue();
        }
    }

    @Test
    void aTlsClientWithoutAlpnH2IsRefusedAndCounted() throws Exception {
        X509Svid svid = pair.west.svid(pair.westGw.path());
        try (SSLSocket s = jdkClient(svid, pair.tunnel(), null)) {
            s.startHandshake();
            s.setSoTimeout(10_000);
            s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readsNothing(s)).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> pair.receiver.stats().refusals(RefusalReason.NO_H2) == 1);
        assertThat(metric(pair.receiverHttp, "meshfed_gateway_refusals_total{reason=\"no_h2\"}")).isEqualTo(1);
        assertThat(pair.receiver.stats().tunnelConnections(Direction.INBOUND)).isZero();
    }

    @Test
    void aConnectWithoutATunnelIdentityIsRefusedAtTheHandshake() throws Exception {
        SSLContext anonymous = SSLContext.getInstance("TLSv1.3");
        TlsCredentials creds = TlsCredentials.of(pair.west.svid(pair.westGw.path()), pair.bundles);
        anonymous.init(null, new javax.net.ssl.TrustManager[] {new SpiffeTrustManager(creds,
                PeerAuthorizer.anyVerified(), Clock.systemUTC())}, null);
        try (SSLSocket s = (SSLSocket) anonymous.getSocketFactory().createSocket(pair.tunnel().getAddress(),
                pair.tunnel().getPort())) {
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {TunnelHeaders.ALPN});
            s.setSSLParameters(p);
            s.setSoTimeout(10_000);
            boolean refused;
            try {
                s.startHandshake();
                s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                refused = readsNothing(s);
            } catch (IOException e) {
                refused = true;
            }
            assertThat(refused).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> pair.receiver.stats().refusals(RefusalReason.HANDSHAKE)
                + pair.receiver.stats().refusals(RefusalReason.UNTRUSTED_PEER) == 1);
        assertThat(pair.receiver.stats().tunnelConnections(Direction.INBOUND)).isZero();
    }

    @Test
    void aCallerAllowedOnTheSniListenerIsAllowedOnTheTunnelAndViceVersa() throws Exception {
        X509Svid northGw = pair.north.svid("/meshfed/gateway/north-gw");
        // Not exported to north: refused on both listeners, for the same reason.
        assertThat(sniListenerCarries(northGw)).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() -> pair.receiver.stats().refusals(RefusalReason.UNAUTHORIZED)
                == 1);
        try (TunnelTestClient c = client(northGw)) {
            Answer refused = c.open(connectTo(authority()));
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.refusal()).isEqualTo("unauthorized");
        }
        assertThat(pair.receiver.stats().refusals(RefusalReason.UNAUTHORIZED)).isEqualTo(2);

        // Exported to north: allowed on both.
        pair.allow(Set.of(TunnelPair.WEST, "north.acme.mesh"));
        assertThat(sniListenerCarries(northGw)).isTrue();
        try (TunnelTestClient c = client(northGw)) {
            Answer allowed = c.open(connectTo(authority()));
            assertThat(allowed.status()).isEqualTo(200);
            allowed.send("north");
            assertThat(allowed.receive(5)).isEqualTo("north");
        }
        assertThat(pair.backend.connections()).hasValue(2);
    }

    /** Whether east's SNI listener carries an echo for {@code svid}. */
    private boolean sniListenerCarries(X509Svid svid) throws Exception {
        InetSocketAddress in = pair.receiver.inboundAddress().orElseThrow();
        try (SSLSocket s = jdkClient(svid, in, pair.sni.toString())) {
            try {
                return EchoBackend.exchange(s, "sni").equals("sni");
            } catch (IOException e) {
                return false;
            }
        }
    }

    private SSLSocket jdkClient(X509Svid svid, InetSocketAddress to, String sni) throws IOException {
        TlsCredentials creds = TlsCredentials.of(svid, pair.bundles);
        SSLContext context = SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(),
                Clock.systemUTC()), new SpiffeKeyManager(creds));
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(to.getAddress(), to.getPort());
        if (sni != null) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
        }
        return s;
    }

    private static boolean readsNothing(Socket s) {
        try {
            return s.getInputStream().read() == -1;
        } catch (IOException e) {
            return true; // reset or alert
        }
    }

}
