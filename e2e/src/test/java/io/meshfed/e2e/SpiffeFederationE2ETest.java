package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPIFFE federation with an outside mesh, as an operator sets it up: a SPIRE-style server of trust domain
 * spire.example (the bundle endpoint test server, https_web) issues an X509-SVID to a workload; that workload calls
 * hello.demo through east's gateway of the running quickstart. It is refused before {@code meshfed trust federate}
 * (east's gateway does not know its trust domain) and after it until {@code meshfed authz allow} (nothing is
 * exported to it), and answered after both. The workload trusts east's gateway by east's bundle, fetched from the
 * controller's own SPIFFE bundle endpoint (https_spiffe), as SPIRE would federate back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SpiffeFederationE2ETest {
    private static final String SNI = "8080.hello.demo.svc.meshfed";
    private static final String CALLER = "spiffe://spire.example/ns/demo/sa/client";

    @TempDir
    static Path work;
    private RunningQuickstart quickstart;
    private BundleEndpointTestServer spire;

    @BeforeAll
    void start() throws Exception {
        quickstart = RunningQuickstart.start(work);
        spire = BundleEndpointTestServer.start(BundleEndpointTestServer.Profile.HTTPS_WEB, "spire.example",
                InetAddress.getLoopbackAddress());
    }

    @AfterAll
    void stop() throws Exception {
        if (spire != null) {
            spire.close();
        }
        if (quickstart != null) {
            quickstart.close();
        }
    }

    /** East's bundle from the controller's bundle endpoint, verifying the controller's SVID by the federation's root. */
    private TrustBundle eastBundleFromTheController() throws Exception {
        Path adminHome = Path.of(quickstart.env.get("MESHFED_HOME"));
        TrustBundle federationRoot = SpiffeBundleJson.decode(TrustDomain.parse("meshfed.local"),
                Files.readString(adminHome.resolve(io.meshfed.api.AdminFiles.BUNDLE)));
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        X509Svid probe = spire.issue("/ns/demo/sa/probe");
        context.init(null, new TrustManager[] {new SpiffeTrustManager(TlsCredentials.of(probe,
                BundleSet.of(federationRoot)), PeerAuthorizer.anyVerified(), Clock.systemUTC())}, new SecureRandom());
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(context).build().send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:15014/.well-known/spiffe-bundle/east.meshfed.local")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return SpiffeBundleJson.decode(TrustDomain.parse("east.meshfed.local"), r.body());
    }

    /** The SPIRE-issued workload calls hello.demo at east's gateway: how it ended (Refusals), or the answer. */
    private String call(TlsCredentials workload) throws Exception {
        SSLContext ctx = SpiffeTls.jdk(new SpiffeTrustManager(workload, PeerAuthorizer.anyVerified(),
                Clock.systemUTC()), new SpiffeKeyManager(workload));
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.1.1", 15443)) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(SNI)));
            s.setSSLParameters(p);
            return Refusals.tls(s);
        }
    }

    @Test
    void aSpireIssuedSvidReachesHelloDemoOnlyAfterTrustFederateAndAuthzAllow() throws Exception {
        TrustBundle east = eastBundleFromTheController();
        X509Svid svid = spire.issue("/ns/demo/sa/client");
        assertThat(svid.id().toString()).isEqualTo(CALLER);
        TlsCredentials workload = TlsCredentials.of(svid, BundleSet.of(TrustBundle.of(TrustDomain.parse("spire.example"), spire.roots())).with(east));

        // Before: east's gateway does not know spire.example, so the handshake fails on the client certificate.
        assertThat(call(workload)).startsWith(Refusals.ALERT);

        Path caFile = work.resolve("spire-web-ca.pem");
        Files.writeString(caFile, spire.webCaPem());
        Processes.Result federate = quickstart.meshfed("trust", "federate", "spire.example", "--bundle-endpoint",
                spire.url().toString(), "--profile", "https_web", "--ca-file", caFile.toString());
        assertThat(federate.stdout()).contains("spire.example");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(quickstart.meshfed("trust",
                "federation", "list").stdout()).contains("spire.example").contains("ok"));
        assertThat(quickstart.meshfed("status").stdout()).contains("spire.example");

        // Federated but not allowed: the handshake completes, then east's gateway refuses (unauthorized).
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(call(workload))
                .isEqualTo(Refusals.HANDSHAKE_THEN_CLOSED));

        quickstart.meshfed("authz", "allow", "hello.demo", "--from", CALLER);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(call(workload))
                .startsWith("answered: HTTP/1.1 200").endsWith("hello from hello.demo in network east\n"));
        // Another SPIRE workload is still refused: the policy names one caller.
        TlsCredentials other = TlsCredentials.of(spire.issue("/ns/demo/sa/other"), BundleSet.of(TrustBundle.of(TrustDomain.parse("spire.example"), spire.roots()))
                .with(east));
        assertThat(call(other)).isEqualTo(Refusals.HANDSHAKE_THEN_CLOSED);

        // Deleting the federation takes spire.example's roots away again.
        quickstart.meshfed("trust", "federation", "delete", "spire.example");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(call(workload))
                .startsWith(Refusals.ALERT));
    }
}
