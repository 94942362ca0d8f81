package io.meshfed.edge;

import static io.meshfed.edge.EdgeFixtures.def;
import static io.meshfed.edge.EdgeFixtures.get;
import static io.meshfed.edge.EdgeFixtures.named;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.controller.testing.TestFederation;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@code meshfed.edge.rate-limiter=redis} against a real redis-server: two edge gateways share one budget (a
 * process-local bucket could not), a refusal is 429 with Retry-After, and a Redis outage lets traffic through
 * (Spring Cloud Gateway's limiter fails open) instead of taking the edge down.
 */
class EdgeRedisRateLimitTest {
    @TempDir
    Path dir;

    @Test
    void twoEdgeGatewaysShareOneBudgetInRedis() throws Exception {
        HttpServer backend = EdgeFixtures.backend("hello");
        try (RedisServer redis = new RedisServer(dir.resolve("redis"));
                TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            federation.admin().createNetwork(io.meshfed.api.v1.CreateNetworkRequest.newBuilder().setName("west")
                    .build());
            federation.admin().addMember(io.meshfed.api.v1.AddMemberRequest.newBuilder().setName("west")
                    .setType("vm").setNetwork("west").build());
            federation.admin().applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("limited")
                    .setUri("http://127.0.0.1:" + backend.getAddress().getPort())
                    .addPredicates(def("Path", "/limited/**"))
                    .addFilters(named("RequestRateLimiter", "redis-rate-limiter.replenish-rate", "1",
                            "redis-rate-limiter.burst-capacity", "3", "redis-rate-limiter.requested-tokens", "3")))
                    .addRoutes(Route.newBuilder().setId("open")
                            .setUri("http://127.0.0.1:" + backend.getAddress().getPort())
                            .addPredicates(def("Path", "/open/**")))
                    .build());
            String[] redisArgs = {"--meshfed.edge.rate-limiter=redis", "--spring.data.redis.host=127.0.0.1",
                "--spring.data.redis.port=" + redis.port(), "--management.health.redis.enabled=true"};
            try (ConfigurableApplicationContext a = EdgeFixtures.edge(federation, "west", "edge-a", dir.resolve("a"),
                    redisArgs);
                    ConfigurableApplicationContext b = EdgeFixtures.edge(federation, "west", "edge-b",
                            dir.resolve("b"), redisArgs)) {
                int portA = ((WebServerApplicationContext) a).getWebServer().getPort();
                int portB = ((WebServerApplicationContext) b).getWebServer().getPort();
                // Both routes come in one snapshot: /open answering on both means /limited is there too.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                        get(portA, "/open/").statusCode() == 200 && get(portB, "/open/").statusCode() == 200);

                // One request costs the whole burst of 3 tokens, refilled at 1 per second: the second request
                // within a second is refused, whichever gateway it reaches.
                HttpResponse<String> first = get(portA, "/limited/x");
                HttpResponse<String> second = get(portB, "/limited/x");

                assertThat(first.statusCode()).isEqualTo(200);
                assertThat(second.statusCode()).as("edge-b sees the budget edge-a spent").isEqualTo(429);
                assertThat(second.headers().firstValue("Retry-After")).hasValueSatisfying(v ->
                        assertThat(Integer.parseInt(v)).isBetween(1, 3));
                assertThat(redis.keys("request_rate_limiter.*")).isNotEmpty();
                int management = Integer.parseInt(b.getEnvironment().getProperty("local.management.port"));
                assertThat(get(management, "/actuator/health").body()).contains("\"status\":\"UP\"");
                await().atMost(Duration.ofSeconds(10)).until(() -> get(portB, "/limited/x").statusCode() == 200);

                redis.close();
                assertThat(get(portA, "/limited/x").statusCode()).as("Redis down: fail open").isEqualTo(200);
                assertThat(get(portA, "/limited/x").statusCode()).isEqualTo(200);
            }
        } finally {
            backend.stop(0);
        }
    }
}
