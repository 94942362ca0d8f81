package io.meshfed.edge;

import static io.meshfed.edge.EdgeFixtures.backend;
import static io.meshfed.edge.EdgeFixtures.def;
import static io.meshfed.edge.EdgeFixtures.get;
import static io.meshfed.edge.EdgeFixtures.named;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Spring Cloud Gateway's traffic management on routes defined at the controller: a 90/10 weighted split, routing
 * by header to v2, and a retry that turns an upstream failure into a success. Upstreams are real HTTP servers in
 * the catalog (hello-v1.demo, hello-v2.demo, flaky.demo).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeTrafficManagementTest {
    @TempDir
    static Path dir;

    private final AtomicInteger flakyRequests = new AtomicInteger();
    private final AtomicInteger fragileRequests = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean fragileBroken = new java.util.concurrent.atomic
            .AtomicBoolean(true);
    private HttpServer fragile;
    private HttpServer v1;
    private HttpServer v2;
    private HttpServer flaky;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private int port;

    @BeforeAll
    void start() throws Exception {
        v1 = backend("v1");
        v2 = backend("v2");
        flaky = backend("flaky", 1, flakyRequests);
        fragile = HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 16);
        fragile.createContext("/", ex -> {
            fragileRequests.incrementAndGet();
            ex.sendResponseHeaders(fragileBroken.get() ? 500 : 200, -1);
            ex.close();
        });
        fragile.start();
        federation = TestFederation.start(dir.resolve("controller"));
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
        WorkloadReport.Builder report = WorkloadReport.newBuilder();
        for (var e : java.util.Map.of("hello-v1", v1, "hello-v2", v2, "flaky", flaky, "fragile", fragile).entrySet()) {
            report.addWorkloads(WorkloadInstance.newBuilder().setService(e.getKey()).setNamespace("demo")
                    .setAddress("127.0.0.1").setPort(e.getValue().getAddress().getPort()).setHealthy(true));
        }
        federation.clusterEndpoints("west", report.build());
        admin.applyRoutes(RouteSet.newBuilder()
                .addRoutes(Route.newBuilder().setId("canary-v1").setUri("lb://hello-v1.demo")
                        .addPredicates(def("Path", "/canary/**")).addPredicates(def("Weight", "canary", "90")))
                .addRoutes(Route.newBuilder().setId("canary-v2").setUri("lb://hello-v2.demo")
                        .addPredicates(def("Path", "/canary/**")).addPredicates(def("Weight", "canary", "10")))
                .addRoutes(Route.newBuilder().setId("by-header-v2").setOrder(0).setUri("lb://hello-v2.demo")
                        .addPredicates(def("Path", "/version/**")).addPredicates(def("Header", "X-Version", "v2")))
                .addRoutes(Route.newBuilder().setId("by-header-v1").setOrder(1).setUri("lb://hello-v1.demo")
                        .addPredicates(def("Path", "/version/**")))
                .addRoutes(Route.newBuilder().setId("retry").setUri("lb://flaky.demo")
                        .addPredicates(def("Path", "/flaky/**"))
                        // Retry as Spring Cloud Gateway's reference shows it, with its nested backoff block (the
                        // CLI flattens it to these keys); a binding failure would drop the route.
                        .addFilters(named("Retry", "retries", "2", "statuses", "INTERNAL_SERVER_ERROR",
                                "methods", "GET", "backoff.firstBackoff", "10ms", "backoff.maxBackoff", "50ms",
                                "backoff.factor", "2", "backoff.basedOnPreviousValue", "false")))
                .addRoutes(Route.newBuilder().setId("limited").setUri("lb://hello-v1.demo")
                        .addPredicates(def("Path", "/limited/**"))
                        .addFilters(named("RequestRateLimiter", "local-rate-limiter.replenish-rate", "1",
                                "local-rate-limiter.burst-capacity", "2", "local-rate-limiter.requested-tokens", "2")))
                .addRoutes(Route.newBuilder().setId("faulty").setUri("lb://hello-v1.demo")
                        .addPredicates(def("Path", "/faulty/**"))
                        .addFilters(named("FaultInjection", "abort-percent", "50", "abort-status", "503")))
                .addRoutes(Route.newBuilder().setId("slow").setUri("lb://hello-v1.demo")
                        .addPredicates(def("Path", "/slow/**"))
                        .addFilters(named("FaultInjection", "delay-percent", "100", "delay", "50ms")))
                .addRoutes(Route.newBuilder().setId("breaker").setUri("lb://fragile.demo")
                        .addPredicates(def("Path", "/breaker/**"))
                        .addFilters(named("CircuitBreaker", "name", "fragile", "statusCodes", "500")))
                .build());
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"),
                "--meshfed.edge.circuit-breaker.sliding-window=4", "--meshfed.edge.circuit-breaker.minimum-calls=4",
                "--meshfed.edge.circuit-breaker.open-for=1s", "--meshfed.edge.circuit-breaker.half-open-calls=1");
        port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> get(port, "/version/x").statusCode() == 200);
    }

    @AfterAll
    void stop() {
        edge.close();
        federation.close();
        v1.stop(0);
        v2.stop(0);
        flaky.stop(0);
        fragile.stop(0);
    }

    @Test
    void aLaterSnapshotWithEveryOneOfTheseRoutesBuildsAndIsTaken() throws Exception {
        // The first snapshot arrived before the edge was ready; this one goes through RouteBindingCheck with every
        // factory above (Weight, Header, Retry with backoff, RequestRateLimiter, FaultInjection, CircuitBreaker).
        var admin = federation.admin();
        admin.applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("later").setUri(
                "lb://hello-v1.demo").addPredicates(def("Path", "/later/**"))).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> get(port, "/later/x").statusCode() == 200);
        assertThat(admin.status(io.meshfed.api.v1.ListRequest.getDefaultInstance()).getSubscribersList())
                .filteredOn(s -> s.getSpiffeId().contains("/meshfed/edge/"))
                .allSatisfy(s -> assertThat(s.getLastError()).isEmpty());
        assertThat(get(port, "/version/a", "X-Version", "v2").body()).isEqualTo("v2 /version/a");
    }

    @Test
    void aNinetyTenWeightedSplitHoldsOverAThousandRequests() throws Exception {
        int toV1 = 0;
        for (int i = 0; i < 1000; i++) {
            String body = get(port, "/canary/" + i).body();
            if (body.startsWith("v1 ")) {
                toV1++;
            } else {
                assertThat(body).startsWith("v2 ");
            }
        }
        // Binomial(1000, 0.9): mean 900, standard deviation 9.5; 850-950 is more than 5 deviations either way.
        assertThat(toV1).isBetween(850, 950);
    }

    @Test
    void aHeaderRoutesToV2AndEverythingElseToV1() throws Exception {
        assertThat(get(port, "/version/a", "X-Version", "v2").body()).isEqualTo("v2 /version/a");
        assertThat(get(port, "/version/a").body()).isEqualTo("v1 /version/a");
        assertThat(get(port, "/version/a", "X-Version", "v3").body()).isEqualTo("v1 /version/a");
    }

    @Test
    void aRetryTurnsOneUpstreamFailureIntoASuccess() throws Exception {
        var response = get(port, "/flaky/x");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("flaky /flaky/x");
        assertThat(flakyRequests).hasValue(2);
    }

    @Test
    void aRateLimitAnswers429WithRetryAfterOnceTheBurstIsSpent() throws Exception {
        // Each request costs 2 tokens of a 2-token bucket refilled at 1 per second: the second request, unless
        // two whole seconds pass in between, finds the bucket short.
        assertThat(get(port, "/limited/1").statusCode()).isEqualTo(200);
        var refused = get(port, "/limited/2");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(
                v -> assertThat(Integer.parseInt(v)).isBetween(1, 2));
        assertThat(refused.headers().firstValue("X-RateLimit-Remaining")).hasValueSatisfying(
                v -> assertThat(Integer.parseInt(v)).isLessThan(2));
        await().atMost(Duration.ofSeconds(5)).until(() -> get(port, "/limited/4").statusCode() == 200);
    }

    @Test
    void faultInjectionAbortsItsShareAndDelaysWithAMarker() throws Exception {
        int aborted = 0;
        for (int i = 0; i < 1000; i++) {
            var r = get(port, "/faulty/" + i);
            if (r.statusCode() == 503) {
                assertThat(r.headers().firstValue("X-Meshfed-Fault")).hasValue("abort");
                aborted++;
            } else {
                assertThat(r.statusCode()).isEqualTo(200);
            }
        }
        // Binomial(1000, 0.5): standard deviation 15.8; 420-580 is five deviations either way.
        assertThat(aborted).isBetween(420, 580);
        var slow = get(port, "/slow/x");
        assertThat(slow.statusCode()).isEqualTo(200);
        assertThat(slow.headers().firstValue("X-Meshfed-Fault")).hasValue("delay");
    }

    @Test
    void aCircuitBreakerOpensOnFailuresThenHalfOpensAndClosesWhenTheUpstreamRecovers() throws Exception {
        for (int i = 0; i < 4; i++) {
            assertThat(get(port, "/breaker/x").statusCode()).isIn(500, 503);
        }
        int seen = fragileRequests.get();
        // Open: answered at once without calling the upstream.
        assertThat(get(port, "/breaker/x").statusCode()).isEqualTo(503);
        assertThat(fragileRequests).hasValue(seen);

        fragileBroken.set(false);
        // After open-for, one half-open call goes through, succeeds, and the breaker closes.
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(port, "/breaker/x").statusCode() == 200);
        assertThat(fragileRequests.get()).isGreaterThan(seen);
        for (int i = 0; i < 3; i++) {
            assertThat(get(port, "/breaker/x").statusCode()).isEqualTo(200);
        }
    }
}
