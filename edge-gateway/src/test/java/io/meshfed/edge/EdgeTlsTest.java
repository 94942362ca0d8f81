package io.meshfed.edge;

import static io.meshfed.edge.EdgeFixtures.selfSigned;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.meshfed.controller.testing.TestFederation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * TLS for the edge gateway's clients: a certificate from files (Spring Boot's {@code server.ssl.*}) with HTTP/2
 * negotiated by ALPN, and the gateway's own X.509-SVID ({@code meshfed.edge.tls.svid}) verified by a client that
 * trusts the federation's bundle.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeTlsTest {
    @TempDir
    static Path dir;

    private HttpServer backend;
    private TestFederation federation;

    @BeforeAll
    void start() throws Exception {
        backend = EdgeFixtures.backend("hello");
        federation = EdgeFixtures.westWithRoute(dir.resolve("controller"), "hello",
                "http://127.0.0.1:" + backend.getAddress().getPort(), "/hello/**");
    }

    @AfterAll
    void stop() {
        federation.close();
        backend.stop(0);
    }

    @Test
    void certificateFilesServeHttpsAndHttp2() throws Exception {
        EdgeFixtures.CertificateFiles files = EdgeFixtures.selfSignedFiles(dir, "edge");
        X509Certificate cert = files.certificate();
        Path certFile = files.certFile();
        Path keyFile = files.keyFile();
        try (ConfigurableApplicationContext edge = EdgeFixtures.edge(federation, "west", "edge-files",
                dir.resolve("files-state"), "--server.ssl.certificate=" + certFile,
                "--server.ssl.certificate-private-key=" + keyFile, "--server.http2.enabled=true")) {
            int port = ((WebServerApplicationContext) edge).getWebServer().getPort();
            HttpClient client = HttpClient.newBuilder().sslContext(trusting(List.of(cert)))
                    .version(HttpClient.Version.HTTP_2).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/hello/tls"))
                    .timeout(Duration.ofSeconds(10)).build();

            HttpResponse<String> response = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> client.send(request, HttpResponse.BodyHandlers.ofString()),
                            r -> r.statusCode() == 200);

            assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(response.body()).isEqualTo("hello /hello/tls");
            HttpClient untrusting = HttpClient.newBuilder().sslContext(trusting(List.of(selfSigned(
                    KeyPairGenerator.getInstance("EC").generateKeyPair())))).build();
            assertThatThrownBy(() -> untrusting.send(request, HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    /**
     * With HTTP/2 on, TLS picks the protocol by ALPN after the handshake: a client that chose HTTP/1.1 and never
     * finishes its headers is still closed by the request deadline (1 s here), not left to the 60 s idle timeout.
     */
    @Test
    void http11ChosenByAlpnKeepsTheRequestDeadline() throws Exception {
        EdgeFixtures.CertificateFiles files = EdgeFixtures.selfSignedFiles(dir, "edge-deadline");
        try (ConfigurableApplicationContext edge = EdgeFixtures.edge(federation, "west", "edge-deadline",
                dir.resolve("deadline-state"), "--server.ssl.certificate=" + files.certFile(),
                "--server.ssl.certificate-private-key=" + files.keyFile(), "--meshfed.edge.http.request-timeout=1s",
                "--meshfed.edge.http.idle-timeout=60s")) {
            int port = ((WebServerApplicationContext) edge).getWebServer().getPort();
            for (String[] offered : new String[][] {{"http/1.1"}, {}}) {
                try (SSLSocket socket = (SSLSocket) trusting(List.of(files.certificate())).getSocketFactory()
                        .createSocket("127.0.0.1", port)) {
                    socket.setSoTimeout(20_000); // a third of the idle timeout
                    SSLParameters params = socket.getSSLParameters();
                    params.setApplicationProtocols(offered);
                    socket.setSSLParameters(params);
                    socket.startHandshake();
                    socket.getOutputStream().write("GET /hello/slow HTTP/1.1\r\nHost: edge\r\nX-Slow: 1"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    int read;
                    try {
                        read = socket.getInputStream().read();
                    } catch (javax.net.ssl.SSLException | java.net.SocketException closed) {
                        read = -1; // closed under the read
                    }
                    assertThat(read).as("ALPN %s: closed by the request deadline", List.of(offered)).isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void theSvidServesClientsThatTrustTheFederationBundle() throws Exception {
        try (ConfigurableApplicationContext edge = EdgeFixtures.edge(federation, "west", "edge-svid",
                dir.resolve("svid-state"), "--meshfed.edge.tls.svid=true", "--server.http2.enabled=true")) {
            int port = ((WebServerApplicationContext) edge).getWebServer().getPort();
            // The bundle the controller handed the edge gateway, as any mesh client of the federation holds it.
            List<X509Certificate> roots = edge.getBean(EdgeNode.class).credentials().bundles().bundles().stream()
                    .flatMap(b -> b.x509Authorities().stream()).toList();
            String edgeId = edge.getBean(EdgeNode.class).id();

            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
                try (SSLSocket socket = (SSLSocket) trusting(roots).getSocketFactory().createSocket("127.0.0.1",
                        port)) {
                    SSLParameters params = socket.getSSLParameters();
                    params.setApplicationProtocols(new String[] {"h2", "http/1.1"});
                    socket.setSSLParameters(params);
                    socket.startHandshake();
                    X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                    assertThat(leaf.getSubjectAlternativeNames().stream().map(san -> String.valueOf(san.get(1))))
                            .containsExactly(edgeId);
                    assertThat(socket.getApplicationProtocol()).isEqualTo("h2");
                }
            });
            assertThat(edgeId).startsWith("spiffe://west.acme.mesh/");
            // A request over that TLS (HTTP/1.1; SVIDs name a SPIFFE ID, not a host, so no hostname check).
            try (SSLSocket socket = (SSLSocket) trusting(roots).getSocketFactory().createSocket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(("GET /hello/svid HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String response = new String(socket.getInputStream().readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8);
                assertThat(response).startsWith("HTTP/1.1 200").endsWith("hello /hello/svid");
            }
        }
    }

    @Test
    void svidAndCertificateFilesTogetherAreRefusedAtStart() {
        assertThatThrownBy(() -> EdgeFixtures.edge(federation, "west", "edge-both", dir.resolve("both-state"),
                "--meshfed.edge.tls.svid=true", "--server.ssl.certificate=/nonexistent.crt"))
                .hasStackTraceContaining("meshfed.edge.tls.svid and server.ssl.* both configure");
    }

    private static SSLContext trusting(List<X509Certificate> roots) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root-" + i, roots.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
