package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.testing.StalledConnections;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's HTTP listeners cannot be stalled: 64 connections that never finish their TLS handshake or their
 * request headers leave /readyz and the JSON admin API answering within 1 s, and the server closes them after its
 * handshake and request timeouts (4 s here; 10 s by default).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpListenersTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(4);
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

    @TempDir
    static Path dir;
    private TestFederation federation;
    private HttpClient admin;
    private HttpClient plain;

    @BeforeAll
    void start() throws Exception {
        federation = TestFederation.startWithProbes(dir, new HttpEndpoint.Timeouts(TIMEOUT, TIMEOUT, TIMEOUT));
        X509Svid svid = federation.adminSvid();
        TlsCredentials creds = TlsCredentials.of(svid, federation.bundles());
        admin = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(), federation.clock),
                        new SpiffeKeyManager(creds))).build();
        plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        // Warm up both clients and the listeners, so that the 1 s budget below is the server's, not class loading's.
        assertThat(admin.send(get(https("/readyz"), Duration.ofSeconds(30)), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
        assertThat(plain.send(get(probe("/readyz"), Duration.ofSeconds(30)), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
    }

    @AfterAll
    void stop() {
        federation.close();
    }

    @Test
    void halfTlsRecordsDoNotStallTheHttpsPort() throws Exception {
        InetSocketAddress https = federation.controller().httpAddress();
        try (StalledConnections stalled = StalledConnections.open(https, 64, StalledConnections.HALF_TLS_RECORD);
                SSLSocket unfinished = unfinishedRequestOverTls(https)) {
            HttpResponse<String> ready = admin.send(get(https("/readyz"), ONE_SECOND),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).isEqualTo("ready\n");
            HttpResponse<String> networks = admin.send(HttpRequest.newBuilder(https("/v1/admin/ListNetworks"))
                    .timeout(ONE_SECOND).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(networks.statusCode()).isEqualTo(200);
            assertThat(stalled.open()).as("stalled connections held while the probe answered").isEqualTo(64);

            assertThat(stalled.leftOpenAfter(TIMEOUT.multipliedBy(3))).as("left open after the handshake timeout")
                    .isZero();
            unfinished.setSoTimeout((int) TIMEOUT.multipliedBy(3).toMillis());
            assertThat(unfinished.getInputStream().read()).as("closed after the request timeout").isEqualTo(-1);
        }
    }

    @Test
    void unfinishedHeadersDoNotStallTheProbePort() throws Exception {
        InetSocketAddress probes = federation.controller().probeAddress().orElseThrow();
        try (StalledConnections stalled = StalledConnections.open(probes, 64,
                StalledConnections.unfinishedRequest("/readyz"))) {
            HttpResponse<String> ready = plain.send(get(probe("/readyz"), ONE_SECOND),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).isEqualTo("ready\n");
            assertThat(stalled.open()).as("stalled connections held while the probe answered").isEqualTo(64);

            assertThat(stalled.leftOpenAfter(TIMEOUT.multipliedBy(3))).as("left open after the request timeout")
                    .isZero();
        }
    }

    @Test
    void theProbePortServesHealthReadinessAndMetricsOnly() throws Exception {
        assertThat(plain.send(get(probe("/healthz"), ONE_SECOND), HttpResponse.BodyHandlers.ofString()).body())
                .isEqualTo("ok\n");
        HttpResponse<String> metrics = plain.send(get(probe("/metrics"), ONE_SECOND),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(metrics.body()).contains("meshfed_store_revision");
        HttpResponse<String> admin = plain.send(HttpRequest.newBuilder(probe("/v1/admin/ListNetworks"))
                .timeout(ONE_SECOND).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(admin.statusCode()).isEqualTo(404);
        assertThat(admin.body()).contains("/v1/admin/ListNetworks").contains("/healthz, /readyz and /metrics");
    }

    @Test
    void aKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(federation.controller().probeAddress().orElseThrow(), 5_000);
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout((int) TIMEOUT.multipliedBy(3).toMillis());
            String response = readUntilClosed(s.getInputStream());
            assertThat(response).startsWith("HTTP/1.1 200 OK").endsWith("\r\n\r\nok\n");
        }
    }

    @Test
    void oversizedHeadersAndBodiesAreRefusedWithTheLimit() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(federation.controller().probeAddress().orElseThrow(), 5_000);
            s.getOutputStream().write(("GET /readyz HTTP/1.1\r\nHost: x\r\nX-Junk: " + "a".repeat(9000) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(10_000);
            assertThat(readUntilClosed(s.getInputStream())).startsWith("HTTP/1.1 431 ")
                    .contains("headers over 8192 bytes");
        }
        try (SSLSocket s = tlsSocket(federation.controller().httpAddress())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/admin/ListNetworks HTTP/1.1\r\nHost: x\r\nContent-Length: "
                    + (HttpEndpoint.MAX_ADMIN_BODY + 1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.setSoTimeout(10_000);
            assertThat(readUntilClosed(s.getInputStream())).startsWith("HTTP/1.1 413 ")
                    .contains("application/json").contains("request body over 1048576 bytes");
        }
    }

    private SSLSocket unfinishedRequestOverTls(InetSocketAddress address) throws Exception {
        SSLSocket s = tlsSocket(address);
        s.getOutputStream().write(StalledConnections.unfinishedRequest("/readyz"));
        s.getOutputStream().flush();
        return s;
    }

    /** A TLS connection with the admin's certificate, handshake done. */
    private SSLSocket tlsSocket(InetSocketAddress address) throws Exception {
        TlsCredentials creds = TlsCredentials.of(federation.adminSvid(), federation.bundles());
        SSLSocket s = (SSLSocket) SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(),
                federation.clock), new SpiffeKeyManager(creds)).getSocketFactory()
                .createSocket(address.getAddress(), address.getPort());
        s.startHandshake();
        return s;
    }

    private static String readUntilClosed(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    private static HttpRequest get(URI uri, Duration timeout) {
        return HttpRequest.newBuilder(uri).timeout(timeout).build();
    }

    private URI https(String path) {
        return URI.create("https://127.0.0.1:" + federation.controller().httpAddress().getPort() + path);
    }

    private URI probe(String path) {
        return URI.create("http://127.0.0.1:" + federation.controller().probeAddress().orElseThrow().getPort() + path);
    }
}
