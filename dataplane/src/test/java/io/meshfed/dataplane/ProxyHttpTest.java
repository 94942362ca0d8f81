package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.StalledConnections;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's and agent's health and metrics port cannot be stalled: 64 connections whose headers never end leave
 * /readyz answering within 1 s, and the server closes them after its request timeout (3 s here; 10 s by default).
 */
class ProxyHttpTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(3);
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);
    private final TestPki pki = TestPki.create("east.acme.mesh", Instant.now());
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private MeshProxy proxy;
    private ProxyHttp http;

    @BeforeEach
    void start() throws Exception {
        proxy = MeshProxy.start(TlsCredentials.of(pki.svid("/meshfed/gateway/gw-1"), BundleSet.of(pki.bundle())),
                null, ProxySettings.defaults(), Clock.systemUTC());
        proxy.update(new RouteTable("v7", Map.of(), Map.of()));
        http = new ProxyHttp(new InetSocketAddress("127.0.0.1", 0), "meshfed.gateway", proxy, () -> true,
                registry -> { }, new ProxyHttp.Timeouts(TIMEOUT, TIMEOUT));
        // Warm up the client, so that the 1 s budget below is the server's.
        assertThat(get("/readyz", Duration.ofSeconds(30)).statusCode()).isEqualTo(200);
    }

    @AfterEach
    void stop() {
        http.close();
        proxy.close();
    }

    @Test
    void unfinishedHeadersDoNotStallReadiness() throws Exception {
        try (StalledConnections stalled = StalledConnections.open(http.address(), 64,
                StalledConnections.unfinishedRequest("/readyz"))) {
            HttpResponse<String> ready = get("/readyz", ONE_SECOND);
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).isEqualTo("ready, config v7\n");
            assertThat(get("/metrics", ONE_SECOND).body()).contains("meshfed_gateway_config_info{version=\"v7\"} 1");
            assertThat(stalled.open()).as("stalled connections held while the probe answered").isEqualTo(64);

            assertThat(stalled.leftOpenAfter(TIMEOUT.multipliedBy(3))).as("left open after the request timeout")
                    .isZero();
        }
    }

    @Test
    void pathsAndOutputsAreTheProbesAndMetrics() throws Exception {
        HttpResponse<String> health = get("/healthz", ONE_SECOND);
        assertThat(health.body()).isEqualTo("ok\n");
        assertThat(health.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(get("/metrics", ONE_SECOND).body()).contains("meshfed_gateway_controller_connected 1.0")
                .contains("meshfed_gateway_config_applied 1.0");
        HttpResponse<String> unknown = get("/admin", ONE_SECOND);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("/healthz, /readyz and /metrics");
    }

    @Test
    void oversizedHeadersAreRefusedWithTheLimit() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(http.address(), 5_000);
            s.getOutputStream().write(("GET /readyz HTTP/1.1\r\nHost: x\r\nX-Junk: " + "a".repeat(9000) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(10_000);
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .startsWith("HTTP/1.1 431 ").contains("headers over 8192 bytes");
        }
    }

    private HttpResponse<String> get(String path, Duration timeout) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.address().getPort() + path))
                .timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    }
}
