package io.meshfed.cli.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.api.v1.RouteRejection;
import io.meshfed.api.v1.RouteSet;
import org.junit.jupiter.api.Test;

/** {@code meshfed route list}: the routes, and below them the routes an edge gateway could not load, and why. */
class RouteCommandTest {
    private static final Route HELLO = Route.newBuilder().setId("hello").setUri("lb://hello.demo")
            .addPredicates(RouteDefinition.newBuilder().setName("Path").addArgs(io.meshfed.api.v1.RouteArg
                    .newBuilder().setKey("_genkey_0").setValue("/hello/**"))).build();

    @Test
    void withoutRejectionsItIsTheTableAlone() {
        String out = RouteCommand.render(RouteSet.newBuilder().addRoutes(HELLO).build());
        assertThat(out).contains("hello", "lb://hello.demo", "Path=/hello/**").doesNotContain("Rejected");
    }

    @Test
    void aRejectedRouteIsNamedWithTheEdgeGatewayAndTheReason() {
        String out = RouteCommand.render(RouteSet.newBuilder().addRoutes(HELLO).addRejections(RouteRejection
                .newBuilder().setRouteId("hello").setMember("edge-west")
                .setSubscriber("spiffe://west.acme.mesh/meshfed/edge/edge-1")
                .setReason("filter Retry does not load: Failed to convert 'soon'")).build());
        assertThat(out).contains("Rejected by edge gateways (not in effect there):\n  hello by edge-west"
                + " (spiffe://west.acme.mesh/meshfed/edge/edge-1): filter Retry does not load: Failed to convert"
                + " 'soon'\n");
    }
}
