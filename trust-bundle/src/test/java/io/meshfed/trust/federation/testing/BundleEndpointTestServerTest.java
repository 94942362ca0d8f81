package io.meshfed.trust.federation.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.X509SvidVerifier;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer.Profile;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

/**
 * The bundle endpoint test server against the standards: its document has the shape of the Trust Domain and Bundle
 * standard's Appendix A example (keys with {@code use}, {@code kty} and key parameters; {@code x5c} of one CA
 * certificate and no {@code kid} for x509-svid; a {@code kid} for jwt-svid; {@code spiffe_sequence},
 * {@code spiffe_refresh_hint}), read with a plain JSON parser and an independent client (the JDK's HttpClient),
 * and its two profiles authenticate as the Federation standard section 5 says.
 */
class BundleEndpointTestServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void httpsWebServesTheStandardDocumentUnderAWebCertificateForItsHostName() throws Exception {
        try (BundleEndpointTestServer server = BundleEndpointTestServer.start(Profile.HTTPS_WEB, "spire.example",
                InetAddress.getLoopbackAddress())) {
            HttpResponse<String> response = client(trusting(Pem.readCertificates(server.webCaPem())))
                    .send(HttpRequest.newBuilder(server.localhostUrl()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
            JsonNode doc = JSON.readTree(response.body());
            assertThat(doc.get("spiffe_sequence").asLong()).isEqualTo(1);
            assertThat(doc.get("spiffe_refresh_hint").asLong()).isEqualTo(300);
            Set<String> uses = new HashSet<>();
            for (JsonNode key : doc.get("keys")) {
                uses.add(key.get("use").asText());
                assertThat(key.get("kty").asText()).isEqualTo("EC");
                assertThat(key.has("crv") && key.has("x") && key.has("y")).isTrue();
                if (key.get("use").asText().equals("x509-svid")) {
                    assertThat(key.has("kid")).as("x509-svid keys have no kid").isFalse();
                    assertThat(key.get("x5c")).hasSize(1);
                    X509Certificate root = Pem.certificateFromDer(
                            Base64.getDecoder().decode(key.get("x5c").get(0).asText()));
                    assertThat(root.getBasicConstraints()).as("an X.509 authority is a CA").isGreaterThanOrEqualTo(0);
                } else {
                    assertThat(key.get("kid").asText()).isNotEmpty();
                    assertThat(key.has("x5c")).isFalse();
                }
            }
            assertThat(uses).containsExactlyInAnyOrder("x509-svid", "jwt-svid");
            TrustBundle bundle = SpiffeBundleJson.decodeFederated(server.trustDomain(), response.body());
            assertThat(bundle.x509Authorities()).containsExactlyElementsOf(server.roots());
            assertThat(bundle.jwtAuthorities()).hasSize(1);
        }
    }

    @Test
    void httpsWebIsRefusedByAClientThatDoesNotTrustItsCaAndAnExpiredCertificateFailsTheHandshake() throws Exception {
        try (BundleEndpointTestServer server = BundleEndpointTestServer.start(Profile.HTTPS_WEB, "spire.example",
                InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> client(SSLContext.getDefault()).send(HttpRequest.newBuilder(server.url())
                    .build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
            server.expireServerCertificate();
            assertThatThrownBy(() -> client(trusting(Pem.readCertificates(server.webCaPem())))
                    .send(HttpRequest.newBuilder(server.url()).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void httpsSpiffePresentsTheSpireServerSvidThatVerifiesAgainstTheBundleAndRotationRaisesTheSequence()
            throws Exception {
        try (BundleEndpointTestServer server = BundleEndpointTestServer.start(Profile.HTTPS_SPIFFE, "spire.example",
                InetAddress.getLoopbackAddress())) {
            TrustBundle first = TrustBundle.of(server.trustDomain(), Pem.readCertificates(server.rootsPem()));
            X509Certificate[][] presented = new X509Certificate[1][];
            X509ExtendedTrustManager capture = new X509ExtendedTrustManager() { // extended: no host name check
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    presented[0] = chain;
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket s) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket s) {
                    presented[0] = chain;
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine e) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine e) {
                    presented[0] = chain;
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            };
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {capture}, null);
            HttpResponse<String> response = client(tls).send(HttpRequest.newBuilder(server.url()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(new X509SvidVerifier(Clock.systemUTC()).verify(List.of(presented[0]), BundleSet.of(first)))
                    .isEqualTo(server.endpointSpiffeId());
            assertThat(server.endpointSpiffeId().toString()).isEqualTo("spiffe://spire.example/spire/server");

            server.rotate();
            TrustBundle second = SpiffeBundleJson.decodeFederated(server.trustDomain(), server.bundleJson());
            assertThat(second.sequenceNumber()).isEqualTo(2);
            assertThat(second.x509Authorities()).hasSize(2).contains(first.x509Authorities().get(0));
            assertThat(new X509SvidVerifier(Clock.systemUTC()).verify(server.issue("/ns/demo/sa/client").chain(),
                    BundleSet.of(second)).toString()).isEqualTo("spiffe://spire.example/ns/demo/sa/client");
            assertThat(server.requests()).isEqualTo(1);
        }
    }

    private static SSLContext trusting(List<X509Certificate> cas) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < cas.size(); i++) {
            store.setCertificateEntry("ca" + i, cas.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        return tls;
    }

    private static HttpClient client(SSLContext tls) {
        return HttpClient.newBuilder().sslContext(tls).build();
    }
}
