package io.meshfed.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.DeleteRouteRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import static io.meshfed.edge.EdgeFixtures.backend;
import static io.meshfed.edge.EdgeFixtures.def;
import static io.meshfed.edge.EdgeFixtures.get;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real edge gateway (the Spring Boot application on a random port) joined to a real controller: a route applied
 * at the controller takes effect live and resolves lb://hello.demo through the federated catalog; deleting it
 * takes effect too; an unknown service answers 503 with a clear body; routes from the application's own
 * configuration keep working beside the controller's.
 */
class EdgeGatewayTest {
    @TempDir
    Path dir;

    @Test
    void controllerRoutesTakeEffectLiveAndLbResolvesThroughTheFederatedCatalog() throws Exception {
        HttpServer hello = backend("hello from hello.demo");
        HttpServer fixed = backend("static");
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            federation.clusterEndpoints("west", WorkloadReport.newBuilder().addWorkloads(WorkloadInstance
                    .newBuilder().setService("hello").setNamespace("demo").setAddress("127.0.0.1")
                    .setPort(hello.getAddress().getPort()).setHealthy(true)).build());
            String token = federation.token("west", Role.ROLE_EDGE);

            try (ConfigurableApplicationContext edge = SpringApplication.run(EdgeApplication.class,
                    "--server.port=0", "--meshfed.edge.controller=127.0.0.1:" + federation.address().getPort(),
                    "--meshfed.edge.member=west", "--meshfed.edge.name=edge-1",
                    "--meshfed.edge.state-dir=" + dir.resolve("edge"), "--meshfed.edge.token=" + token,
                    "--management.server.port=0",
                    "--spring.cloud.gateway.server.webflux.routes[0].id=static",
                    "--spring.cloud.gateway.server.webflux.routes[0].uri=http://127.0.0.1:" + fixed.getAddress().getPort(),
                    "--spring.cloud.gateway.server.webflux.routes[0].predicates[0]=Path=/static/**")) {
                int port = ((WebServerApplicationContext) edge).getWebServer().getPort();
                assertThat(edge.getBean(EdgeNode.class).id()).isEqualTo("spiffe://west.acme.mesh/meshfed/edge/edge-1");
                assertThat(get(port, "/static/x").body()).isEqualTo("static /static/x");
                assertThat(get(port, "/hello/there").statusCode()).isEqualTo(404);

                admin.applyRoutes(RouteSet.newBuilder()
                        .addRoutes(Route.newBuilder().setId("hello").setUri("lb://hello.demo")
                                .addPredicates(def("Path", "/hello/**")).addFilters(def("StripPrefix", "1")))
                        .addRoutes(Route.newBuilder().setId("missing").setUri("lb://missing.demo")
                                .addPredicates(def("Path", "/missing/**")))
                        .build());
                await().atMost(Duration.ofSeconds(20)).until(() -> get(port, "/hello/there").statusCode() == 200);
                assertThat(get(port, "/hello/there").body()).isEqualTo("hello from hello.demo /there");
                HttpResponse<String> missing = get(port, "/missing/x");
                assertThat(missing.statusCode()).isEqualTo(503);
                assertThat(missing.body()).contains("missing.demo").doesNotContain("Exception");

                admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("hello").build());
                await().atMost(Duration.ofSeconds(20)).until(() -> get(port, "/hello/there").statusCode() == 404);
                assertThat(get(port, "/static/y").body()).isEqualTo("static /static/y");

                // Spring Cloud Gateway's forms: an id with '_', and a route without predicates, which matches every
                // request that no route of a lower order took.
                admin.applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("path_route")
                        .setUri("lb://hello.demo").setOrder(1000)).build());
                await().atMost(Duration.ofSeconds(20)).until(() -> get(port, "/anything/else").statusCode() == 200);
                assertThat(get(port, "/anything/else").body()).isEqualTo("hello from hello.demo /anything/else");
                assertThat(get(port, "/static/z").body()).isEqualTo("static /static/z");
                admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("path_route").build());
                await().atMost(Duration.ofSeconds(20)).until(() -> get(port, "/anything/else").statusCode() == 404);

                // A route the edge cannot build is not dropped with a log line: the snapshot is NACKed naming the
                // route, the filter and the binding error, and the routes in effect stay.
                for (var broken : java.util.List.of(
                        java.util.Map.entry(def("Retry", "many"), "route broken: filter Retry does not load"),
                        java.util.Map.entry(io.meshfed.api.v1.RouteDefinition.newBuilder().setName("Retry")
                                .addArgs(io.meshfed.api.v1.RouteArg.newBuilder().setKey("backoff.firstBackoff")
                                        .setValue("soon")).build(), "route broken: filter Retry does not load"),
                        java.util.Map.entry(def("NoSuchFilter", "1"), "route broken: no filter named NoSuchFilter"))) {
                    admin.applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("broken")
                            .setUri("lb://hello.demo").addPredicates(def("Path", "/broken/**"))
                            .addFilters(broken.getKey())).build());
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(admin.status(
                            io.meshfed.api.v1.ListRequest.getDefaultInstance()).getSubscribersList()).anySatisfy(sub -> {
                                assertThat(sub.getSpiffeId()).isEqualTo("spiffe://west.acme.mesh/meshfed/edge/edge-1");
                                assertThat(sub.getLastError()).contains(broken.getValue());
                            }));
                    // meshfed route list names the route, the edge gateway and why.
                    assertThat(admin.listRoutes(io.meshfed.api.v1.ListRequest.getDefaultInstance())
                            .getRejectionsList()).singleElement().satisfies(r -> {
                                assertThat(r.getRouteId()).isEqualTo("broken");
                                assertThat(r.getSubscriber()).isEqualTo("spiffe://west.acme.mesh/meshfed/edge/edge-1");
                                assertThat(r.getMember()).isEqualTo("west");
                                assertThat(r.getReason()).startsWith(broken.getValue().substring("route broken: "
                                        .length()));
                            });
                    assertThat(get(port, "/broken/x").statusCode()).isEqualTo(404); // never took effect
                    assertThat(get(port, "/static/w").body()).isEqualTo("static /static/w");
                    admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("broken").build());
                }

                // Two routes that do not load: both are named, each with its own reason; once they are gone the
                // edge ACKs and nothing is listed as rejected.
                admin.applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("broken-a")
                        .setUri("lb://hello.demo").addPredicates(def("Path", "/a/**")).addFilters(def("NoSuchA", "1")))
                        .addRoutes(Route.newBuilder().setId("broken-b").setUri("lb://hello.demo")
                                .addPredicates(def("NoSuchPredicate", "1"))).build());
                await().atMost(Duration.ofSeconds(20)).until(() -> admin.listRoutes(
                        io.meshfed.api.v1.ListRequest.getDefaultInstance()).getRejectionsCount() == 2);
                assertThat(admin.listRoutes(io.meshfed.api.v1.ListRequest.getDefaultInstance()).getRejectionsList())
                        .extracting(r -> r.getRouteId() + ": " + r.getReason().replaceAll(" \\(this edge.*", ""))
                        .containsExactlyInAnyOrder("broken-a: no filter named NoSuchA",
                                "broken-b: no predicate named NoSuchPredicate");
                admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("broken-a").build());
                admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("broken-b").build());
                await().atMost(Duration.ofSeconds(20)).until(() -> admin.listRoutes(
                        io.meshfed.api.v1.ListRequest.getDefaultInstance()).getRejectionsCount() == 0);

                int management = Integer.parseInt(edge.getEnvironment().getProperty("local.management.port"));
                assertThat(get(management, "/actuator/health").body()).contains("\"status\":\"UP\"");
                assertThat(get(management, "/actuator/prometheus").body())
                        .contains("spring_cloud_gateway_requests_seconds_count{")
                        .contains("route_id=\"meshfed-hello\"").contains("route_id=\"static\"");
            }
        } finally {
            hello.stop(0);
            fixed.stop(0);
        }
    }

    @Test
    void aServiceInAnotherNetworkIsReachedThroughItsEastWestGatewayWithTheEdgesIdentity() throws Exception {
        HttpServer hello = backend("hello from east");
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            var admin = federation.admin();
            for (String net : new String[] {"east", "west"}) {
                admin.createNetwork(CreateNetworkRequest.newBuilder().setName(net).build());
                admin.addMember(AddMemberRequest.newBuilder().setName(net).setType("vm").setNetwork(net).build());
            }
            federation.clusterEndpoints("east", WorkloadReport.newBuilder().addWorkloads(WorkloadInstance
                    .newBuilder().setService("hello").setNamespace("demo").setAddress("127.0.0.1")
                    .setPort(hello.getAddress().getPort()).setHealthy(true)).build());
            admin.export(io.meshfed.api.v1.ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                    .addToMembers("west").build());
            admin.applyRoutes(RouteSet.newBuilder().addRoutes(Route.newBuilder().setId("hello")
                    .setUri("lb://hello.demo").addPredicates(def("Path", "/hello/**")).addFilters(def("StripPrefix", "1")))
                    .build());
            String controller = "127.0.0.1:" + federation.address().getPort();
            try (io.meshfed.gateway.GatewayNode eastGw = io.meshfed.gateway.GatewayNode.start(
                    new io.meshfed.gateway.GatewayNode.Options(controller, federation.token("east", Role.ROLE_GATEWAY),
                            "east", "east-gw", new io.meshfed.client.StateDir(dir.resolve("east-gw")),
                            new InetSocketAddress("127.0.1.1", 0), null, java.net.InetAddress.getByName("127.0.1.1"),
                            null, null), java.time.Clock.systemUTC());
                    ConfigurableApplicationContext edge = SpringApplication.run(EdgeApplication.class,
                            "--server.port=0", "--meshfed.edge.controller=" + controller, "--meshfed.edge.member=west",
                            "--meshfed.edge.name=edge-1", "--meshfed.edge.state-dir=" + dir.resolve("edge"),
                            "--management.server.port=0",
                            "--meshfed.edge.token=" + federation.token("west", Role.ROLE_EDGE))) {
                int port = ((WebServerApplicationContext) edge).getWebServer().getPort();
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> get(port, "/hello/x").statusCode() == 200);
                assertThat(get(port, "/hello/there").body()).isEqualTo("hello from east /there");
                // East's gateway carried it: its mTLS peer was the edge, authorized because hello.demo is
                // exported to west.
                assertThat(eastGw.gateway().stats().inboundRouted()).isPositive(); // the edge keeps its connection alive
                assertThat(eastGw.gateway().refusals(io.meshfed.dataplane.RefusalReason.UNAUTHORIZED)).isZero();

                admin.unexport(io.meshfed.api.v1.ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                        .addToMembers("west").build());
                await().atMost(Duration.ofSeconds(30)).until(() -> get(port, "/hello/x").statusCode() == 503);
            }
        } finally {
            hello.stop(0);
        }
    }
}
