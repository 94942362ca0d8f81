package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.trust.SpiffeId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How a snapshot's route to another network becomes an upstream: a tunnel when the route names one, else SNI. */
class SnapshotTargetsTest {
    private static final String EAST_GW = "spiffe://east.acme.mesh/meshfed/gateway/east-gw";

    private static Service hello(GatewayRoute.Builder route) {
        return Service.newBuilder().setName("hello").setNamespace("demo")
                .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                        .addRoutes(route.setPort(8080).setGatewayAddress("10.0.1.1:15443")
                                .setSni("8080.hello.demo.svc.meshfed").addIdentities(EAST_GW)))
                .build();
    }

    @Test
    void aRouteWithATunnelAddressIsReachedThroughTheTunnelPinnedToTheSameIdentities() {
        List<Tier> tiers = SnapshotTargets.tiers(hello(GatewayRoute.newBuilder().setTunnelAddress("10.0.1.1:15008")),
                8080, true);
        assertThat(tiers).singleElement().extracting(Tier::upstreams).asList().singleElement().isEqualTo(
                Upstream.tunnel("east", "10.0.1.1", 15008, "8080.hello.demo.svc.meshfed",
                        Set.of(SpiffeId.parse(EAST_GW))));
    }

    @Test
    void aRouteWithoutOneIsReachedOverTlsToTheGatewaysSniListener() {
        List<Tier> tiers = SnapshotTargets.tiers(hello(GatewayRoute.newBuilder()), 8080, true);
        assertThat(tiers.get(0).upstreams()).containsExactly(Upstream.gateway("east", "10.0.1.1", 15443,
                "8080.hello.demo.svc.meshfed", Set.of(SpiffeId.parse(EAST_GW))));
    }
}
