package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RouteTablePolicyTest {
    private final ServiceSni hello = ServiceSni.parse("8080.hello.demo.svc.meshfed");
    private final SpiffeId west = SpiffeId.parse("spiffe://west.meshfed/ns/demo/vm/vm-1");
    private final SpiffeId extra = SpiffeId.parse("spiffe://west-extra.meshfed/ns/demo/vm/vm-2");
    private final AtomicReference<RouteTable> table = new AtomicReference<>(table(Set.of("west.meshfed"), Set.of()));
    private final RouteTablePolicy policy = new RouteTablePolicy(table::get);

    private RouteTable table(Set<String> allowed, Set<String> revoked) {
        return table(allowed, revoked, CallerRules.NONE);
    }

    private RouteTable table(Set<String> allowed, Set<String> revoked, CallerRules rules) {
        Target target = new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", 8080)))), allowed, rules);
        return new RouteTable("v", Map.of(hello, target), Map.<InetSocketAddress, Target>of(), revoked);
    }

    private static CallerRules.Rule rule(String id, CallerRules.Effect effect, String from) {
        return new CallerRules.Rule(id, effect, io.meshfed.trust.SpiffeIdPattern.parse(from));
    }

    @Test
    void anAllowRuleAddsCallersToTheExportDefaultAndNamesItselfInTheDecision() {
        table.set(table(Set.of("west.meshfed"), Set.of(), new CallerRules(List.of(
                rule("a1", CallerRules.Effect.ALLOW, "spiffe://west-extra.meshfed/ns/demo/vm/*")))));
        CallerDecision extraIn = policy.decide(hello, extra);
        assertThat(extraIn.allowed()).isTrue();
        assertThat(extraIn.reason()).isEqualTo(AuthzReason.POLICY_ALLOW);
        assertThat(extraIn.policyId()).isEqualTo("a1");
        assertThat(policy.decide(hello, west)).as("the export default still holds")
                .isEqualTo(CallerDecision.allow(AuthzReason.EXPORT));
        SpiffeId otherNamespace = SpiffeId.parse("spiffe://west-extra.meshfed/ns/demo-other/vm/vm-2");
        assertThat(policy.decide(hello, otherNamespace)).as("the prefix stops at a segment boundary")
                .isEqualTo(CallerDecision.refuse(RefusalReason.UNAUTHORIZED, AuthzReason.NOT_EXPORTED));
    }

    @Test
    void denyWinsOverAnExportAndOverAnAllowRule() {
        table.set(table(Set.of("west.meshfed"), Set.of(), new CallerRules(List.of(
                rule("a1", CallerRules.Effect.ALLOW, "spiffe://west-extra.meshfed"),
                rule("d1", CallerRules.Effect.DENY, extra.toString()),
                rule("d2", CallerRules.Effect.DENY, "spiffe://west.meshfed/ns/demo/*")))));
        CallerDecision extraOut = policy.decide(hello, extra);
        assertThat(extraOut.refusal()).contains(RefusalReason.UNAUTHORIZED);
        assertThat(extraOut.reason()).isEqualTo(AuthzReason.POLICY_DENY);
        assertThat(extraOut.policyId()).isEqualTo("d1");
        assertThat(policy.decide(hello, west).reason()).as("deny beats the export").isEqualTo(AuthzReason.POLICY_DENY);
        assertThat(policy.decide(hello, SpiffeId.parse("spiffe://west.meshfed/meshfed/gateway/gw")).reason())
                .isEqualTo(AuthzReason.EXPORT);
        assertThat(policy.decide(hello, SpiffeId.parse("spiffe://west-extra.meshfed/ns/x/sa/y")).reason())
                .isEqualTo(AuthzReason.POLICY_ALLOW);
    }

    @Test
    void revocationComesBeforeAnyAllowRule() {
        table.set(table(Set.of(), Set.of(extra.toString()), new CallerRules(List.of(
                rule("a1", CallerRules.Effect.ALLOW, extra.toString())))));
        assertThat(policy.decide(hello, extra)).isEqualTo(CallerDecision.refuse(RefusalReason.REVOKED,
                AuthzReason.REVOKED));
    }

    @Test
    void aCallerOfAnExportedToTrustDomainIsAllowedAndAnyOtherIsRefusedAsUnauthorized() {
        assertThat(policy.decide(hello, west)).isEqualTo(CallerDecision.allow(AuthzReason.EXPORT));
        assertThat(policy.decide(hello, extra)).isEqualTo(CallerDecision.refuse(RefusalReason.UNAUTHORIZED,
                AuthzReason.NOT_EXPORTED));
    }

    @Test
    void aServicePortWithoutATargetIsUnknownAndARevokedCallerIsRefusedBeforeAnythingElse() {
        assertThat(policy.decide(ServiceSni.parse("9090.hello.demo.svc.meshfed"), west).refusal())
                .contains(RefusalReason.UNKNOWN_SERVICE);
        table.set(table(Set.of("west.meshfed"), Set.of(west.toString())));
        assertThat(policy.decide(hello, west).refusal()).contains(RefusalReason.REVOKED);
        assertThat(policy.decide(ServiceSni.parse("9090.hello.demo.svc.meshfed"), west).refusal())
                .contains(RefusalReason.REVOKED);
    }

    @Test
    void theDecisionFollowsTheCurrentTable() {
        table.set(table(Set.of("west.meshfed", "west-extra.meshfed"), Set.of()));
        assertThat(policy.decide(hello, extra).allowed()).isTrue();
    }
}
