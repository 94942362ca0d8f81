package io.meshfed.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshfed.controller.testing.TestFederation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The edge gateway's access log: one JSON line per request on {@code meshfed.access}, in the gateways' form, with
 * the route, the upstream, the status, the bytes both ways, the duration, the result and the trace the request
 * belongs to (the caller's, continued); a request no route takes is logged as refused, with its reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeAccessLogTest {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    @TempDir
    static Path dir;
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    /** Reads every request body before it answers, so all of it must cross the gateway. */
    private RecordingBackend backend;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private int port;

    @BeforeAll
    void start() throws Exception {
        backend = new RecordingBackend("hello");
        federation = EdgeFixtures.westWithRoute(dir.resolve("controller"), "hello-route",
                backend.uri(), "/hello/**");
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"));
        port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> EdgeFixtures.get(port, "/hello/warm")
                .statusCode() == 200);
        lines.start();
        ((Logger) LoggerFactory.getLogger("meshfed.access")).addAppender(lines);
    }

    @AfterAll
    void stop() {
        ((Logger) LoggerFactory.getLogger("meshfed.access")).detachAppender(lines);
        if (edge != null) {
            edge.close();
        }
        federation.close();
        backend.close();
    }

    private Optional<JsonNode> line(String path) throws Exception {
        for (ILoggingEvent e : List.copyOf(lines.list)) {
            JsonNode l = new ObjectMapper().readTree(e.getFormattedMessage());
            if (l.path("path").asText().equals(path)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    @Test
    void aRoutedRequestIsOneJsonLineWithItsRouteUpstreamBytesAndTrace() throws Exception {
        HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello/logged"))
                        .header("traceparent", "00-" + TRACE + "-00f067aa0ba902b7-01")
                        .POST(HttpRequest.BodyPublishers.ofString("twelve bytes")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("hello /hello/logged");
        assertThat(backend.next("/hello/logged").body()).isEqualTo("twelve bytes");

        await().atMost(Duration.ofSeconds(10)).until(() -> line("/hello/logged").isPresent());
        JsonNode l = line("/hello/logged").orElseThrow();
        assertThat(l.path("listener").asText()).isEqualTo("edge");
        assertThat(l.path("method").asText()).isEqualTo("POST");
        assertThat(l.path("route").asText()).as("the gateway's route id, as its metrics name it")
                .isEqualTo("meshfed-hello-route");
        assertThat(l.path("upstream").asText()).isEqualTo("127.0.0.1:" + backend.port());
        assertThat(l.path("status").asInt()).isEqualTo(200);
        assertThat(l.path("bytes_in").asLong()).isEqualTo("twelve bytes".length());
        assertThat(l.path("bytes_out").asLong()).isEqualTo("hello /hello/logged".length());
        assertThat(l.path("result").asText()).isEqualTo("ok");
        assertThat(l.has("reason")).isFalse();
        assertThat(l.path("trace_id").asText()).as("the caller's trace, continued").isEqualTo(TRACE);
        assertThat(l.path("source").asText()).startsWith("/127.0.0.1:");
        assertThat(l.path("duration_ms").asLong()).isNotNegative();
        assertThat(Instant.parse(l.path("time").asText())).isBefore(Instant.now());
        assertThat(l.has("caller")).as("no client certificate").isFalse();
    }

    @Test
    void aRequestNoRouteTakesIsLoggedAsRefusedWithItsReasonAndANewTrace() throws Exception {
        assertThat(EdgeFixtures.get(port, "/nowhere/at-all").statusCode()).isEqualTo(404);

        await().atMost(Duration.ofSeconds(10)).until(() -> line("/nowhere/at-all").isPresent());
        JsonNode l = line("/nowhere/at-all").orElseThrow();
        assertThat(l.path("status").asInt()).isEqualTo(404);
        assertThat(l.path("result").asText()).isEqualTo("refused");
        assertThat(l.path("reason").asText()).isEqualTo("no_route");
        assertThat(l.has("route")).isFalse();
        assertThat(l.has("upstream")).isFalse();
        assertThat(l.path("trace_id").asText()).as("the trace the gateway started").matches("[0-9a-f]{32}")
                .isNotEqualTo(TRACE);
    }
}
