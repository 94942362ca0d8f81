package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.FederateTrustDomainRequest;
import io.meshfed.api.v1.FederationState;
import io.meshfed.controller.federation.FederationSettings;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer.Profile;
import io.meshfed.trust.internal.CertificateBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code https_web} SPIFFE bundle endpoint ({@code bundleEndpointListen} with a web PKI certificate file and its
 * key): a client that trusts only the web CA and checks the host name gets the bundle JSON of the federation's own
 * and its members' trust domains, never an outside (federated) one's nor anything of the admin API; another
 * controller federates with it through the https_web profile and gets the member's roots. A missing key file stops
 * the controller from starting, naming the file.
 */
class WebBundleEndpointTest {
    private static final TrustDomain EAST = TrustDomain.parse("east.acme.mesh");

    @TempDir
    Path dir;
    private TestFederation federation;
    private TestFederation other;
    private BundleEndpointTestServer spire;
    private X509Certificate webCa;
    private Path certFile;
    private Path keyFile;

    @BeforeEach
    void webPki() throws Exception {
        Instant now = Instant.now();
        KeyPair caKeys = KeyAlgorithm.EC_P256.generate();
        webCa = CertificateBuilder.builder().subject("CN=web CA,O=meshfed-test")
                .selfSigned(caKeys.getPublic(), caKeys.getPrivate())
                .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)))
                .ca(true, null).keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign).build();
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        X509Certificate server = CertificateBuilder.builder().subject("CN=localhost,O=meshfed-test")
                .issuedBy(webCa, caKeys.getPrivate()).publicKey(keys.getPublic())
                .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30))).ca(false, null)
                .keyUsage(KeyUsage.digitalSignature).extendedKeyUsage(KeyPurposeId.id_kp_serverAuth)
                .dnsSan("localhost").ipSan("127.0.0.1").build();
        certFile = Files.writeString(dir.resolve("web.crt"), Pem.writeCertificates(List.of(server, webCa)));
        keyFile = Files.writeString(dir.resolve("web.key"), Pem.writePrivateKey(keys.getPrivate()));
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {spire, other, federation}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private void startWithWebEndpoint() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"), c -> c.withFederation(new FederationSettings(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), certFile, keyFile, null)));
        federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                .build());
    }

    private URI url(String path) {
        int port = federation.controller().webBundleEndpointAddress().orElseThrow().getPort();
        return URI.create("https://localhost:" + port + path);
    }

    /** A client that trusts only the web CA (and checks the host name, as the JDK's HttpClient does). */
    private HttpClient webClient() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("web-ca", webCa);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return webClient().send(HttpRequest.newBuilder(url(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesOwnAndMemberBundlesWithTheWebCertificateAndNothingElse() throws Exception {
        startWithWebEndpoint();
        HttpResponse<String> east = get("/.well-known/spiffe-bundle/" + EAST.name());
        assertThat(east.statusCode()).as(east.body()).isEqualTo(200);
        assertThat(east.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(east.sslSession().orElseThrow().getPeerCertificates()[0]).isEqualTo(
                Pem.readCertificates(Files.readString(certFile)).get(0));
        TrustBundle bundle = SpiffeBundleJson.decode(EAST, east.body());
        assertThat(bundle.x509Authorities()).containsExactlyElementsOf(federation.identity.bundle(EAST)
                .x509Authorities());
        assertThat(bundle.refreshHint()).hasValue(Duration.ofMinutes(5));
        HttpResponse<String> own = get("/.well-known/spiffe-bundle/" + TestFederation.FEDERATION_TD.name());
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(SpiffeBundleJson.decode(TestFederation.FEDERATION_TD, own.body()).x509Authorities())
                .containsExactlyElementsOf(federation.identity.bundle(TestFederation.FEDERATION_TD)
                        .x509Authorities());

        // An outside trust domain we federate with is consumed, never served on.
        spire = BundleEndpointTestServer.start(Profile.HTTPS_WEB, "spire.example", InetAddress.getLoopbackAddress());
        FederationState federated = federation.admin().federateTrustDomain(FederateTrustDomainRequest.newBuilder()
                .setTrustDomain("spire.example").setBundleEndpoint(spire.url().toString()).setProfile("https_web")
                .setCaPem(spire.webCaPem()).build());
        assertThat(federated.getState()).as(federated.toString()).isEqualTo("ok");
        HttpResponse<String> foreign = get("/.well-known/spiffe-bundle/spire.example");
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(foreign.body()).startsWith("no bundle of trust domain 'spire.example'");

        // Only bundles here: the admin API and metrics are on the mTLS port alone.
        for (String path : new String[] {"/metrics", "/v1/admin/Status", "/v1/admin/ListMembers"}) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(404);
        }

        // A client that trusts only the JDK's roots does not accept the endpoint (its CA is ours, not public).
        HttpClient jdk = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        assertThatThrownBy(() -> jdk.send(HttpRequest.newBuilder(url("/.well-known/spiffe-bundle/" + EAST.name()))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
    }

    @Test
    void anotherControllerFederatesWithItOverHttpsWeb() throws Exception {
        startWithWebEndpoint();
        // A member of ours with a trust domain outside acme.mesh: another federation (its own acme.mesh, no members)
        // consumes it from ours (it may not federate names under its own trust domain, where its members' are).
        io.meshfed.trust.TrustDomain partner = io.meshfed.trust.TrustDomain.parse("partner.example");
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("partner").setType("vm")
                .setNetwork("east").setTrustDomain(partner.name()).build());
        other = TestFederation.start(dir.resolve("other"));
        FederationState state = other.admin().federateTrustDomain(FederateTrustDomainRequest.newBuilder()
                .setTrustDomain(partner.name()).setBundleEndpoint(url("/.well-known/spiffe-bundle/" + partner.name())
                        .toString()).setProfile("https_web").setCaPem(Pem.writeCertificates(List.of(webCa)))
                .build());
        assertThat(state.getState()).as(state.toString()).isEqualTo("ok");
        assertThat(state.getLastError()).isEmpty();
        assertThat(state.getX509Authorities()).isEqualTo(federation.identity.bundle(partner).x509Authorities()
                .size());
    }

    @Test
    void aMissingKeyFileStopsTheControllerNamingIt() throws Exception {
        Path missing = dir.resolve("absent.key");
        assertThatThrownBy(() -> TestFederation.start(dir.resolve("controller"), c -> c.withFederation(
                new FederationSettings(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), certFile, missing,
                        null))))
                .hasStackTraceContaining("the https_web bundle endpoint's key file " + missing
                        + " is missing or unreadable");
    }
}
