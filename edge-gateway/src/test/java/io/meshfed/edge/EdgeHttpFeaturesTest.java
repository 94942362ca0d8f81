package io.meshfed.edge;

import static io.meshfed.edge.EdgeFixtures.def;
import static io.meshfed.edge.EdgeFixtures.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.netty.DisposableServer;

/**
 * HTTP features of routes pushed from the controller: header rewriting, a per-route response timeout, request
 * mirroring to a mesh service, WebSocket pass-through and W3C trace context, each checked at a real upstream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeHttpFeaturesTest {
    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]");

    @TempDir
    static Path dir;

    private RecordingBackend primary;
    private RecordingBackend shadow;
    private RecordingBackend hello;
    private DisposableServer websocket;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private int port;

    @BeforeAll
    void start() throws Exception {
        primary = new RecordingBackend("primary");
        shadow = new RecordingBackend("shadow");
        hello = new RecordingBackend("hello");
        websocket = reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.ws("/ws/echo", (in, out) -> out.sendString(in.receive().asString().map(s -> "echo " + s))))
                .bindNow();
        federation = TestFederation.start(dir.resolve("controller"));
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
        federation.clusterEndpoints("west", WorkloadReport.newBuilder()
                .addWorkloads(WorkloadInstance.newBuilder().setService("shadow").setNamespace("demo")
                        .setAddress("127.0.0.1").setPort(shadow.port()).setHealthy(true))
                .addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                        .setAddress("127.0.0.1").setPort(hello.port()).setHealthy(true))
                .build());
        admin.applyRoutes(RouteSet.newBuilder()
                .addRoutes(Route.newBuilder().setId("headers").setUri(primary.uri())
                        .addPredicates(def("Path", "/headers/**"))
                        .addFilters(def("AddRequestHeader", "X-Added", "by-edge"))
                        .addFilters(def("RemoveRequestHeader", "X-Secret"))
                        .addFilters(def("RewritePath", "/headers/(?<rest>.*)", "/api/${rest}"))
                        .addFilters(def("SetResponseHeader", "X-Served-By", "meshfed-edge"))
                        .addFilters(def("RemoveResponseHeader", "X-Backend-Secret")))
                .addRoutes(Route.newBuilder().setId("timeout").setUri(primary.uri())
                        .addPredicates(def("Path", "/timeout/**"))
                        .addMetadata(RouteArg.newBuilder().setKey("response-timeout").setValue("300")))
                .addRoutes(Route.newBuilder().setId("mirror").setUri(primary.uri())
                        .addPredicates(def("Path", "/mirror/**"))
                        .addFilters(def("Mirror", "lb://shadow.demo")))
                .addRoutes(Route.newBuilder().setId("dead-mirror").setUri(primary.uri())
                        .addPredicates(def("Path", "/dead-mirror/**"))
                        .addFilters(def("Mirror", "http://127.0.0.1:" + closedPort())))
                .addRoutes(Route.newBuilder().setId("mesh-host").setUri("lb://hello.demo")
                        .addPredicates(def("Path", "/mesh-host/**")))
                .addRoutes(Route.newBuilder().setId("preserved-host").setUri("lb://hello.demo")
                        .addPredicates(def("Path", "/preserved-host/**"))
                        .addFilters(def("PreserveHostHeader")))
                .addRoutes(Route.newBuilder().setId("ws").setUri("ws://127.0.0.1:" + websocket.port())
                        .addPredicates(def("Path", "/ws/**")))
                .build());
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"));
        port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> get(port, "/headers/ready").statusCode() == 200);
        primary.clear();
    }

    private static int closedPort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @AfterAll
    void stop() {
        edge.close();
        federation.close();
        primary.close();
        shadow.close();
        hello.close();
        websocket.disposeNow();
    }

    @Test
    void aLaterSnapshotWithEveryOneOfTheseRoutesBuildsAndIsTaken() throws Exception {
        // The first snapshot arrived before the edge was ready; this one goes through RouteBindingCheck with every
        // factory above (headers, RewritePath, Mirror, PreserveHostHeader, a websocket route).
        federation.admin().applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("later")
                .setUri("lb://hello.demo").addPredicates(def("Path", "/later/**"))).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> get(port, "/later/x").statusCode() == 200);
        assertThat(federation.admin().status(io.meshfed.api.v1.ListRequest.getDefaultInstance()).getSubscribersList())
                .filteredOn(s -> s.getSpiffeId().contains("/meshfed/edge/"))
                .allSatisfy(s -> assertThat(s.getLastError()).isEmpty());
    }

    @Test
    void headersAreAddedRemovedAndThePathRewritten() throws Exception {
        HttpResponse<String> response = get(port, "/headers/orders/7?x=1", "X-Secret", "hunter2", "X-Kept", "yes");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-Served-By")).hasValue("meshfed-edge");
        assertThat(response.headers().firstValue("X-Backend-Secret")).isEmpty();
        RecordingBackend.Request seen = primary.next("/api/orders/7?x=1");
        assertThat(seen.pathAndQuery()).isEqualTo("/api/orders/7?x=1");
        assertThat(seen.header("X-Added")).isEqualTo("by-edge");
        assertThat(seen.header("X-Kept")).isEqualTo("yes");
        assertThat(seen.header("X-Secret")).isNull();
    }

    @Test
    void aSlowUpstreamAnswersGatewayTimeoutAfterTheRoutesResponseTimeout() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = get(port, "/timeout/sleep");
        long tookMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(tookMillis).as("answered before the upstream's 3 s").isLessThan(2500);
        assertThat(get(port, "/timeout/quick").statusCode()).isEqualTo(200);
    }

    @Test
    void mirroringCopiesTheRequestToTheShadowServiceAndAnswersFromThePrimary() throws Exception {
        shadow.clear();
        HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/mirror/orders?id=9"))
                .header("X-Tenant", "acme").POST(HttpRequest.BodyPublishers.ofString("{\"qty\":3}")).build();

        HttpResponse<String> response = HttpClient.newHttpClient().send(post, HttpResponse.BodyHandlers.ofString());

        assertThat(response.body()).isEqualTo("primary /mirror/orders");
        RecordingBackend.Request original = primary.next("/mirror/orders?id=9");
        RecordingBackend.Request copy = shadow.next("/mirror/orders?id=9");
        assertThat(copy).as("the shadow service got a copy").isNotNull();
        assertThat(copy.method()).isEqualTo("POST");
        assertThat(copy.pathAndQuery()).isEqualTo("/mirror/orders?id=9");
        assertThat(copy.body()).isEqualTo("{\"qty\":3}").isEqualTo(original.body());
        assertThat(copy.header("X-Tenant")).isEqualTo("acme");
        assertThat(copy.header("X-Meshfed-Mirror")).isEqualTo("meshfed-mirror");
        assertThat(original.header("X-Meshfed-Mirror")).isNull();
        assertThat(copy.header("Host")).as("the mirrored service's name").isEqualTo("shadow.demo");
        awaitMirrorCounted("2xx", "meshfed-mirror");
    }

    @Test
    void anLbRouteSendsTheServiceNameAsHost() throws Exception {
        HttpResponse<String> response = get(port, "/mesh-host/a");

        assertThat(response.body()).isEqualTo("hello /mesh-host/a");
        assertThat(hello.next("/mesh-host/a").header("Host")).isEqualTo("hello.demo");
    }

    @Test
    void anLbRouteWithPreserveHostHeaderSendsTheClientsHost() throws Exception {
        HttpResponse<String> response = get(port, "/preserved-host/b");

        assertThat(response.body()).isEqualTo("hello /preserved-host/b");
        assertThat(hello.next("/preserved-host/b").header("Host")).isEqualTo("127.0.0.1:" + port);
    }

    /** The edge gateway's metrics show at least one mirror outcome {@code outcome} for {@code route}. */
    private void awaitMirrorCounted(String outcome, String route) {
        int management = Integer.parseInt(edge.getEnvironment().getProperty("local.management.port"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get(management,
                "/actuator/prometheus").body()).containsPattern("meshfed_edge_mirror_requests_total\\{outcome=\""
                        + outcome + "\",route=\"" + route + "\"} [1-9]"));
    }

    @Test
    void aDeadMirrorDoesNotTouchTheClientsAnswer() throws Exception {
        HttpResponse<String> response = get(port, "/dead-mirror/x");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("primary /dead-mirror/x");
        awaitMirrorCounted("error", "meshfed-dead-mirror");
    }

    @Test
    void webSocketsPassThrough() throws Exception {
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws/echo"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                        received.add(data.toString());
                        socket.request(1);
                        return CompletableFuture.completedFuture(null);
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
        ws.sendText("again", true).get(5, TimeUnit.SECONDS);

        assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo hello");
        assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo again");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void aCallersTraceContinuesToTheUpstreamWithANewParentSpan() throws Exception {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String callerSpan = "00f067aa0ba902b7";

        assertThat(get(port, "/headers/traced", "traceparent", "00-" + traceId + "-" + callerSpan + "-01")
                .statusCode()).isEqualTo(200);

        var m = TRACEPARENT.matcher(primary.next("/api/traced").header("traceparent"));
        assertThat(m.matches()).isTrue();
        assertThat(m.group(1)).isEqualTo(traceId);
        assertThat(m.group(2)).isNotEqualTo(callerSpan);
    }

    @Test
    void aCallWithoutTraceContextStartsANewTrace() throws Exception {
        get(port, "/headers/a");
        get(port, "/headers/b");

        String first = primary.next("/api/a").header("traceparent");
        String second = primary.next("/api/b").header("traceparent");
        assertThat(first).matches(TRACEPARENT);
        assertThat(second).matches(TRACEPARENT);
        assertThat(first.substring(3, 35)).isNotEqualTo(second.substring(3, 35));
    }
}
