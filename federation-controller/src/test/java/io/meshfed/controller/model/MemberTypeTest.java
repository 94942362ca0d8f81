package io.meshfed.controller.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.catalog.SnapshotAudience;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the controller may assume about each kind of member, asked of its type. */
class MemberTypeTest {
    private static MemberRecord member(String type) {
        return new MemberRecord("m", type, "west", "m.acme.mesh", List.of(), List.of());
    }

    @Test
    void onlyAKubernetesMembersGatewaySpeaksForItsWorkloads() {
        assertThat(MemberType.of(member("kubernetes")).gatewayAttestsSources()).isTrue();
        assertThat(MemberType.of(member("vm")).gatewayAttestsSources()).isFalse();
        assertThat(MemberType.of(member("consul")).gatewayAttestsSources()).isFalse();
        assertThat(SnapshotAudience.EAST_WEST_GATEWAY.of(member("consul"))).isEqualTo(SnapshotAudience.OTHER);
        assertThat(SnapshotAudience.EAST_WEST_GATEWAY.of(member("kubernetes")))
                .isEqualTo(SnapshotAudience.EAST_WEST_GATEWAY);
    }

    @Test
    void aTypeThisVersionDoesNotKnowGetsTheLeastRights() {
        assertThat(MemberType.named("nomad")).isEmpty();
        assertThat(MemberType.of(member("nomad"))).isEqualTo(MemberType.VM);
        assertThat(SnapshotAudience.EAST_WEST_GATEWAY.of(member("nomad"))).isEqualTo(SnapshotAudience.OTHER);
    }

    @Test
    void connectedKindsNameTheCommandThatJoinsThem() {
        assertThat(MemberType.VM.joinedBy()).isEmpty();
        assertThat(MemberType.KUBERNETES.joinedBy()).hasValue("meshfed cluster join NAME --kubeconfig FILE --network NET");
        assertThat(MemberType.CONSUL.joinedBy()).hasValue("meshfed consul join NAME --address URL --network NET");
        assertThat(MemberType.names()).isEqualTo("vm, kubernetes, consul");
    }
}
