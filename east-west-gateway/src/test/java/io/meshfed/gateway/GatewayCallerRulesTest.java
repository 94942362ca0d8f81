package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.AuthzReason;
import io.meshfed.dataplane.RouteTable;
import io.meshfed.dataplane.RouteTablePolicy;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.SpiffeId;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The gateway reads a service's caller rules from the snapshot into its inbound targets, or rejects the snapshot. */
class GatewayCallerRulesTest {
    private static final ServiceSni HELLO = ServiceSni.parse("8080.hello.demo.svc.meshfed");

    private static ConfigSnapshot snapshot(CallerRule... rules) {
        return ConfigSnapshot.newBuilder().setVersion("v1").addServices(Service.newBuilder().setName("hello")
                        .setNamespace("demo").addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("10.0.1.5").setPort(8080))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addAllowedTrustDomains("west.acme.mesh").addAllRules(java.util.List.of(rules)))
                .build();
    }

    private static CallerRule rule(String id, CallerRule.Effect effect, String from) {
        return CallerRule.newBuilder().setId(id).setEffect(effect).setFrom(from).build();
    }

    @Test
    void allowAndDenyRulesReachTheInboundTargetAndDecide() {
        RouteTable table = GatewayRoutes.of(snapshot(
                rule("a1", CallerRule.Effect.ALLOW, "spiffe://west-extra.acme.mesh/ns/demo/vm/*"),
                rule("d1", CallerRule.Effect.DENY, "spiffe://west.acme.mesh/ns/demo/vm/bad")),
                InetAddress.getLoopbackAddress());
        assertThat(table.inbound().get(HELLO).callers().rules()).hasSize(2);
        RouteTablePolicy policy = new RouteTablePolicy(() -> table);
        assertThat(policy.decide(HELLO, SpiffeId.parse("spiffe://west-extra.acme.mesh/ns/demo/vm/extra-1")).reason())
                .isEqualTo(AuthzReason.POLICY_ALLOW);
        assertThat(policy.decide(HELLO, SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/vm/bad")).reason())
                .isEqualTo(AuthzReason.POLICY_DENY);
        assertThat(policy.decide(HELLO, SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/vm/good")).reason())
                .isEqualTo(AuthzReason.EXPORT);
    }

    @Test
    void aRuleTheGatewayCannotApplyRejectsTheWholeSnapshot() {
        assertThatThrownBy(() -> GatewayRoutes.of(snapshot(rule("d1", CallerRule.Effect.DENY, "spiffe://west/*/x")),
                InetAddress.getLoopbackAddress())).isInstanceOf(InvalidSpiffeIdException.class)
                .hasMessageContaining("invalid SPIFFE ID pattern");
        assertThatThrownBy(() -> GatewayRoutes.of(snapshot(rule("x1", CallerRule.Effect.EFFECT_UNSPECIFIED,
                "spiffe://west")), InetAddress.getLoopbackAddress())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("caller rule 'x1' of hello.demo has no known effect");
    }
}
