package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.RotateTrustDomainRequest;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.testing.TestPki;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SPIFFE bundle endpoint on the controller's HTTPS port ({@code https_spiffe}: the server presents the
 * controller's SVID, the client needs no certificate): {@code GET /.well-known/spiffe-bundle/<td>} serves the bundle
 * JSON of the federation's own and its members' trust domains, with a sequence that goes up and a refresh hint, and
 * nothing of trust domains it does not hold the CA of.
 */
class BundleEndpointTest {
    private static final TrustDomain EAST = TrustDomain.parse("east.acme.mesh");

    @TempDir
    Path dir;
    private TestFederation federation;

    @BeforeEach
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                .build());
    }

    @AfterEach
    void stop() {
        federation.close();
    }

    private TrustBundle fetch(TrustDomain td) throws Exception {
        HttpResponse<String> r = Http.get(federation, "/.well-known/spiffe-bundle/" + td.name());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        return SpiffeBundleJson.decode(td, r.body());
    }

    @Test
    void aMembersBundleIsServedWithSequenceAndRefreshHintAndBothRootsWhileItRotates() throws Exception {
        TrustBundle east = fetch(EAST);
        assertThat(east.x509Authorities()).containsExactlyElementsOf(federation.identity.bundle(EAST)
                .x509Authorities());
        assertThat(east.refreshHint()).hasValue(Duration.ofMinutes(5));
        assertThat(fetch(TestFederation.FEDERATION_TD).x509Authorities()).containsExactlyElementsOf(
                federation.identity.bundle(TestFederation.FEDERATION_TD).x509Authorities());

        federation.admin().rotateTrustDomain(RotateTrustDomainRequest.newBuilder().setTrustDomain(EAST.name())
                .setSoakSeconds(3600).build());
        TrustBundle rotating = fetch(EAST);
        assertThat(rotating.sequenceNumber()).isGreaterThan(east.sequenceNumber());
        assertThat(rotating.x509Authorities()).hasSize(2).containsAll(east.x509Authorities())
                .contains(federation.identity.ca(EAST, 1).rootCertificates().get(0));
    }

    @Test
    void aWebListenerWhoseCertificateDoesNotLoadStopsTheStartNamingTheFile() throws Exception {
        Path certFile = Files.writeString(dir.resolve("broken.crt"), "not a certificate\n");
        Path keyFile = Files.writeString(dir.resolve("broken.key"), "not a key\n");
        federation.close();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestFederation.start(dir.resolve("controller"),
                c -> c.withFederation(new io.meshfed.controller.federation.FederationSettings(
                        new java.net.InetSocketAddress("127.0.0.1", 0), certFile, keyFile, null))))
                .hasMessageContaining("the https_web bundle endpoint's certificate " + certFile)
                .hasMessageContaining("do not load");
        federation = TestFederation.start(dir.resolve("controller")); // nothing half-started is left behind
    }

    @Test
    void trustDomainsItDoesNotHoldTheCaOfAreNotServedAndBadRequestsGetAReason() throws Exception {
        TestPki spire = TestPki.create("spire.acme.mesh", Instant.now());
        Path bundle = dir.resolve("spire-bundle.json");
        Files.writeString(bundle, SpiffeBundleJson.encode(spire.bundle()));
        Path caDir = Files.createDirectories(federation.dataDir.resolve("ca").resolve("spire.acme.mesh"));
        Files.writeString(caDir.resolve("backend.json"), "{\"backend\": \"external\", \"settings\": {"
                + "\"bundle-file\": \"" + bundle + "\"}}");
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("spire").setType("vm").setNetwork("east")
                .build());

        for (String td : new String[] {"spire.acme.mesh", "nobody.acme.mesh", "..%2F..%2Fetc", "EAST.ACME.MESH!"}) {
            HttpResponse<String> r = Http.get(federation, "/.well-known/spiffe-bundle/" + td);
            assertThat(r.statusCode()).as(td).isEqualTo(404);
            assertThat(r.body()).startsWith("no bundle of trust domain '").contains("' is served here");
        }
        HttpResponse<String> none = Http.get(federation, "/.well-known/spiffe-bundle/");
        assertThat(none.statusCode()).isEqualTo(404);
        HttpResponse<String> post = Http.post(federation, "/.well-known/spiffe-bundle/" + EAST.name(), "{}",
                federation.adminSvid());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.body()).isEqualTo("the SPIFFE bundle endpoint answers GET only\n");
        // The endpoint is listed where an unknown path is answered.
        assertThat(Http.get(federation, "/nothing").body()).contains("/.well-known/spiffe-bundle/TRUST-DOMAIN");
        await().atMost(Duration.ofSeconds(5)).until(() -> Http.get(federation, "/healthz").statusCode() == 200);
    }
}
