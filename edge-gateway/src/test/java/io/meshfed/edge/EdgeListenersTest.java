package io.meshfed.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.testing.StalledConnections;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The edge gateway's listeners cannot be stalled, and do not keep what stalls them: 64 connections whose headers
 * never end leave /actuator/health (management port) and the public port answering within 1 s, and are closed after
 * the request timeout (3 s here; the idle timeout is 60 s, so it is the request deadline that closes them).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeListenersTest {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

    @TempDir
    static Path dir;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private int management;
    private int port;

    @BeforeAll
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"),
                "--meshfed.edge.http.request-timeout=" + REQUEST_TIMEOUT.toSeconds() + "s",
                "--meshfed.edge.http.idle-timeout=60s");
        management = Integer.parseInt(edge.getEnvironment().getProperty("local.management.port"));
        port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        // Warm up, so that the 1 s budget below is the server's.
        assertThat(get(management, "/actuator/health", Duration.ofSeconds(30)).statusCode()).isEqualTo(200);
        assertThat(get(port, "/nothing/here", Duration.ofSeconds(30)).statusCode()).isEqualTo(404);
    }

    @AfterAll
    void stop() {
        if (edge != null) {
            edge.close();
        }
        federation.close();
    }

    @Test
    void unfinishedHeadersDoNotStallTheManagementPort() throws Exception {
        try (StalledConnections stalled = StalledConnections.open(new InetSocketAddress("127.0.0.1", management), 64,
                StalledConnections.unfinishedRequest("/actuator/health"))) {
            HttpResponse<String> health = get(management, "/actuator/health", ONE_SECOND);
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"");
            assertThat(stalled.open()).as("stalled connections held while health answered").isEqualTo(64);

            assertThat(stalled.leftOpenAfter(REQUEST_TIMEOUT.multipliedBy(3))).as("left open after the request timeout")
                    .isZero();
        }
    }

    @Test
    void unfinishedHeadersDoNotStallThePublicPort() throws Exception {
        try (StalledConnections stalled = StalledConnections.open(new InetSocketAddress("127.0.0.1", port), 64,
                StalledConnections.unfinishedRequest("/nothing/here"))) {
            assertThat(get(port, "/nothing/here", ONE_SECOND).statusCode()).isEqualTo(404);
            assertThat(stalled.open()).as("stalled connections held while the gateway answered").isEqualTo(64);

            assertThat(stalled.leftOpenAfter(REQUEST_TIMEOUT.multipliedBy(3))).as("left open after the request timeout")
                    .isZero();
        }
    }

    private HttpResponse<String> get(int port, String path, Duration timeout) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(timeout)
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
