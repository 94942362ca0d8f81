package io.meshfed.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.meshfed.controller.testing.TestFederation;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.netty.http.HttpProtocol;
import reactor.netty.resources.ConnectionProvider;

/**
 * The edge gateway speaks HTTP/2 in clear text by default, beside HTTP/1.1, with no setting: h2c with prior
 * knowledge (as gRPC clients and h2load send it), h2c by upgrade (as the JDK's client asks for it), and HTTP/1.1 as
 * before. A prior-knowledge connection is under HTTP/2's timeouts once its preface arrived, so the HTTP/1.1 request
 * deadline (1 s here) does not close it between requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeHttp2Test {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);
    @TempDir
    static Path dir;
    private HttpServer backend;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private int port;

    @BeforeAll
    void start() throws Exception {
        backend = EdgeFixtures.backend("hello");
        federation = EdgeFixtures.westWithRoute(dir.resolve("controller"), "hello",
                "http://127.0.0.1:" + backend.getAddress().getPort(), "/hello/**");
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"),
                "--meshfed.edge.http.request-timeout=" + REQUEST_TIMEOUT.toSeconds() + "s",
                "--meshfed.edge.http.idle-timeout=60s");
        port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> EdgeFixtures.get(port, "/hello/warm")
                .statusCode() == 200);
    }

    @AfterAll
    void stop() {
        if (edge != null) {
            edge.close();
        }
        federation.close();
        backend.stop(0);
    }

    @Test
    void aPriorKnowledgeClientGetsHttp2AndItsConnectionOutlivesTheHttp11RequestDeadline() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        ConnectionProvider pool = ConnectionProvider.create("h2c-test", 1);
        try {
            reactor.netty.http.client.HttpClient client = reactor.netty.http.client.HttpClient.create(pool)
                    .protocol(HttpProtocol.H2C).doOnConnected(c -> connections.incrementAndGet())
                    .responseTimeout(Duration.ofSeconds(10));
            String[] first = get(client, "/hello/h2c-1");
            assertThat(first[0]).isEqualTo("HTTP/2.0 200");
            assertThat(first[1]).isEqualTo("hello /hello/h2c-1");

            Thread.sleep(REQUEST_TIMEOUT.multipliedBy(3).toMillis()); // idle, past the HTTP/1.1 request deadline
            String[] second = get(client, "/hello/h2c-2");
            assertThat(second[0]).isEqualTo("HTTP/2.0 200");
            assertThat(second[1]).isEqualTo("hello /hello/h2c-2");
            assertThat(connections).as("the second request took the first connection: it was not closed")
                    .hasValue(1);
        } finally {
            pool.disposeLater().block(Duration.ofSeconds(5));
        }
    }

    private String[] get(reactor.netty.http.client.HttpClient client, String path) {
        return client.get().uri("http://127.0.0.1:" + port + path).responseSingle((response, body) -> body.asString()
                .defaultIfEmpty("").map(b -> new String[] {response.version().text() + " " + response.status().code(),
                        b})).block(Duration.ofSeconds(15));
    }

    @Test
    void aClientThatAsksToUpgradeGetsHttp2AndAnHttp11ClientStillGetsHttp11() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello/upgrade"))
                .timeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> upgraded = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()
                .send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(upgraded.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(upgraded.statusCode()).isEqualTo(200);
        assertThat(upgraded.body()).isEqualTo("hello /hello/upgrade");

        HttpResponse<String> plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(plain.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(plain.body()).isEqualTo("hello /hello/upgrade");
    }

    /**
     * The JDK's client asks for h2c by default, also on a request with a body: the upgrade request's body reaches the
     * upstream, small or larger than what is buffered for an upgrade (then the request stays HTTP/1.1).
     */
    @Test
    void aRequestWithABodyThatAsksToUpgradeIsAnsweredWhole() throws Exception {
        HttpClient client = HttpClient.newHttpClient(); // HTTP/2 preferred: an Upgrade: h2c on http://
        for (int size : new int[] {9, 200_000}) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/hello/post-" + size)).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(size))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("%d bytes", size).isEqualTo(200);
            assertThat(response.body()).as("%d bytes", size).isEqualTo("hello /hello/post-" + size);
        }
    }

    /** nghttp2's load tool, the HTTP/2 standard's own client: every request succeeds over h2c. */
    @Test
    void h2loadGetsEveryRequestAnsweredOverH2c() throws Exception {
        io.meshfed.trust.testing.RequiredTool.require("h2load", "nghttp2-client");
        Process h2load = new ProcessBuilder("h2load", "-n", "400", "-c", "4", "-m", "8",
                "http://127.0.0.1:" + port + "/hello/load").redirectErrorStream(true).start();
        String out = new String(h2load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!h2load.waitFor(60, TimeUnit.SECONDS)) {
            h2load.destroyForcibly();
            throw new IOException("h2load did not finish in 60 s:\n" + out);
        }
        assertThat(out).as(out).contains("Application protocol: h2c")
                .contains("requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored")
                .contains("status codes: 400 2xx");
    }
}
