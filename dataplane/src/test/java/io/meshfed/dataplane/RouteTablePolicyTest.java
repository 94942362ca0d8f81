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
        Target target = new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", 8080)))), allowed);
        return new RouteTable("v", Map.of(hello, target), Map.<InetSocketAddress, Target>of(), revoked);
    }

    @Test
    void aCallerOfAnExportedToTrustDomainIsAllowedAndAnyOtherIsRefusedAsUnauthorized() {
        assertThat(policy.decide(hello, west)).isEqualTo(CallerDecision.allow("export"));
        assertThat(policy.decide(hello, extra)).isEqualTo(CallerDecision.refuse(RefusalReason.UNAUTHORIZED,
                "not_exported"));
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
