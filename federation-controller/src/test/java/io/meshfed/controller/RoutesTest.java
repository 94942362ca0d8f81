package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.DeleteRouteRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Edge routes: applied and listed at the controller, pushed to edge gateways only, argument order kept. */
class RoutesTest {
    @TempDir
    Path dir;

    private static RouteDefinition def(String name, String... values) {
        RouteDefinition.Builder b = RouteDefinition.newBuilder().setName(name);
        for (int i = 0; i < values.length; i++) {
            b.addArgs(RouteArg.newBuilder().setKey("_genkey_" + i).setValue(values[i]));
        }
        return b.build();
    }

    private static Route route(String id, int order, String uri) {
        return Route.newBuilder().setId(id).setOrder(order).setUri(uri).addPredicates(def("Path", "/" + id + "/**"))
                .addFilters(def("StripPrefix", "1")).addFilters(def("AddRequestHeader", "X-Via", "meshfed")).build();
    }

    private static void refused(Runnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    @Test
    void routesAreAppliedListedDeletedAndReachEdgeGatewaysOnly() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            try (TestSubscriber edge = new TestSubscriber(federation.channel(
                    federation.memberSvid("west.acme.mesh", "/meshfed/edge/edge-1")));
                    TestSubscriber gateway = new TestSubscriber(federation.channel(
                            federation.memberSvid("west.acme.mesh", "/meshfed/gateway/gw")))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> edge.latest() != null && gateway.latest() != null);
                String gatewayVersion = gateway.latest().getVersion();

                RouteSet applied = admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("hello", 10, "lb://hello.demo"))
                        .addRoutes(route("echo", 5, "lb://echo.demo")).build());
                assertThat(applied.getRoutesList()).extracting(Route::getId).containsExactly("echo", "hello");
                assertThat(admin.listRoutes(ListRequest.getDefaultInstance()).getRoutesList())
                        .containsExactly(route("echo", 5, "lb://echo.demo"), route("hello", 10, "lb://hello.demo"));

                await().atMost(Duration.ofSeconds(20)).until(() -> edge.latest().getRoutesCount() == 2);
                assertThat(edge.latest().getRoutes(1).getFilters(1).getArgsList()).extracting(RouteArg::getValue)
                        .containsExactly("X-Via", "meshfed");
                // The refresh that sent the edge its routes offered the gateway its snapshot in the same loop task;
                // status() runs on that loop after it, so a push to the gateway would show here, with no waiting.
                assertThat(federation.controller().streams().status()).filteredOn(s -> s.getSpiffeId()
                        .endsWith("/meshfed/gateway/gw")).singleElement()
                        .satisfies(s -> assertThat(s.getSentVersion()).isEqualTo(gatewayVersion));
                assertThat(gateway.latest().getVersion()).as("routes do not concern gateways").isEqualTo(gatewayVersion);
                assertThat(gateway.latest().getRoutesCount()).isZero();

                // Replace by id, then delete.
                admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("hello", 1, "http://127.0.0.1:8080")).build());
                assertThat(admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("echo").build()).getRoutesList())
                        .containsExactly(route("hello", 1, "http://127.0.0.1:8080"));
                await().atMost(Duration.ofSeconds(20)).until(() -> edge.latest().getRoutesCount() == 1
                        && edge.latest().getRoutes(0).getUri().equals("http://127.0.0.1:8080"));
            }
            refused(() -> admin.deleteRoute(DeleteRouteRequest.newBuilder().setId("echo").build()),
                    Status.Code.NOT_FOUND, "route 'echo' does not exist");
        }
    }

    @Test
    void badRoutesAreRefusedWithTheirReasonAndNothingIsStored() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            var admin = federation.admin();
            Route good = route("good", 0, "lb://hello.demo");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(good)
                    .addRoutes(route("bad", 0, "lb://hello")).build()), Status.Code.INVALID_ARGUMENT,
                    "route 'bad': uri 'lb://hello' must be lb://<service>.<namespace>");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("_bad id", 0, "lb://a.b")).build()),
                    Status.Code.INVALID_ARGUMENT, "route id '_bad id' must be 1 to 253 letters, digits, '_', '-',"
                            + " '.' or '~', starting with a letter or digit");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("x".repeat(254), 0, "lb://a.b"))
                    .build()), Status.Code.INVALID_ARGUMENT, "must be 1 to 253 letters");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("x", 0, "ftp://host")).build()),
                    Status.Code.INVALID_ARGUMENT, "must start with lb://, http://, https://, ws://, wss:// or lb:ws://");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("ws", 0, "lb:ws://chat")).build()),
                    Status.Code.INVALID_ARGUMENT, "must be lb://<service>.<namespace>");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(good).addRoutes(good).build()),
                    Status.Code.INVALID_ARGUMENT, "route 'good' appears twice");
            refused(() -> admin.applyRoutes(RouteSet.newBuilder().addRoutes(good.toBuilder()
                    .addFilters(def("Strip Prefix", "1"))).build()), Status.Code.INVALID_ARGUMENT,
                    "filter name 'Strip Prefix' must be a factory name");
            assertThat(admin.listRoutes(ListRequest.getDefaultInstance()).getRoutesCount()).isZero();

            // Spring Cloud Gateway's own forms: an id such as path_route, and a route without predicates.
            admin.applyRoutes(RouteSet.newBuilder().addRoutes(route("chat", 0, "lb:ws://chat.demo"))
                    .addRoutes(route("feed", 0, "wss://feed.example.com/v1"))
                    .addRoutes(route("path_route", 0, "lb://hello.demo"))
                    .addRoutes(route("catch-all", 100, "lb://hello.demo").toBuilder().clearPredicates()).build());
            assertThat(admin.listRoutes(ListRequest.getDefaultInstance()).getRoutesList()).extracting(Route::getId)
                    .containsExactly("chat", "feed", "path_route", "catch-all");
        }
    }
}
