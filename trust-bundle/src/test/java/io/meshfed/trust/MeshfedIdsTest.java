package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.MeshfedIds.Role;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MeshfedIdsTest {
    private static final TrustDomain EAST = TrustDomain.parse("east.acme.mesh");
    private static final TrustDomain FED = TrustDomain.parse("acme.mesh");

    static Stream<Arguments> everyRole() {
        return Stream.of(
                Arguments.of(MeshfedIds.workload(EAST, "demo", "hello"), "spiffe://east.acme.mesh/ns/demo/sa/hello",
                        Role.WORKLOAD, Optional.of("demo")),
                Arguments.of(MeshfedIds.agent(EAST, "demo", "vm-1"), "spiffe://east.acme.mesh/ns/demo/vm/vm-1",
                        Role.AGENT, Optional.of("demo")),
                Arguments.of(MeshfedIds.gateway(EAST, "east-gw"), "spiffe://east.acme.mesh/meshfed/gateway/east-gw",
                        Role.GATEWAY, Optional.empty()),
                Arguments.of(MeshfedIds.edge(EAST, "edge-1"), "spiffe://east.acme.mesh/meshfed/edge/edge-1",
                        Role.EDGE, Optional.empty()),
                Arguments.of(MeshfedIds.controller(FED), "spiffe://acme.mesh/meshfed/controller", Role.CONTROLLER,
                        Optional.empty()),
                Arguments.of(MeshfedIds.admin(FED), "spiffe://acme.mesh/meshfed/admin", Role.ADMIN, Optional.empty()));
    }

    @ParameterizedTest
    @MethodSource("everyRole")
    void eachRoleHasItsShapeAndIsToldBack(SpiffeId built, String expected, Role role, Optional<String> namespace) {
        assertThat(built).hasToString(expected);
        SpiffeId parsed = SpiffeId.parse(expected);
        assertThat(MeshfedIds.roleOf(parsed)).contains(role);
        assertThat(MeshfedIds.roleOf(expected)).contains(role);
        assertThat(MeshfedIds.hasRole(parsed, role)).isTrue();
        assertThat(MeshfedIds.namespaceOf(parsed)).isEqualTo(namespace);
        for (Role other : Role.values()) {
            if (other != role) {
                assertThat(MeshfedIds.hasRole(parsed, other)).as(other.name()).isFalse();
            }
        }
    }

    @Test
    void everyRoleIsCovered() {
        assertThat(everyRole().map(a -> a.get()[2])).containsExactlyInAnyOrder((Object[]) Role.values());
    }

    @Test
    void pathsBelowTheAdminsAreAdminsToo() {
        assertThat(MeshfedIds.roleOf(SpiffeId.parse("spiffe://acme.mesh/meshfed/admin/alice"))).contains(Role.ADMIN);
        assertThat(MeshfedIds.roleOf(SpiffeId.parse("spiffe://acme.mesh/meshfed/admin/ops/bob")))
                .contains(Role.ADMIN);
        assertThat(MeshfedIds.roleOf(SpiffeId.parse("spiffe://acme.mesh/meshfed/administrator"))).isEmpty();
    }

    @Test
    void anAdminIsOneOnlyInTheFederationsTrustDomain() {
        assertThat(MeshfedIds.isAdmin(MeshfedIds.admin(FED), FED)).isTrue();
        assertThat(MeshfedIds.isAdmin(SpiffeId.parse("spiffe://acme.mesh/meshfed/admin/alice"), FED)).isTrue();
        assertThat(MeshfedIds.isAdmin(MeshfedIds.admin(EAST), FED)).isFalse();
        assertThat(MeshfedIds.isAdmin(MeshfedIds.controller(FED), FED)).isFalse();
        assertThat(MeshfedIds.isAdmin(MeshfedIds.gateway(FED, "admin"), FED)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "spiffe://east.acme.mesh",
        "spiffe://east.acme.mesh/ns/demo",
        "spiffe://east.acme.mesh/ns/demo/sa",
        "spiffe://east.acme.mesh/ns/demo/sa/hello/extra",
        "spiffe://east.acme.mesh/ns/demo/vm/vm-1/extra",
        "spiffe://east.acme.mesh/ns/demo/pod/p",
        "spiffe://east.acme.mesh/NS/demo/vm/vm-1",
        "spiffe://east.acme.mesh/meshfed/gateway",
        "spiffe://east.acme.mesh/meshfed/gateway/a/b",
        "spiffe://east.acme.mesh/meshfed/edge",
        "spiffe://east.acme.mesh/meshfed/edge/a/b",
        "spiffe://east.acme.mesh/meshfed/controller/x",
        "spiffe://east.acme.mesh/meshfed",
        "spiffe://east.acme.mesh/meshfed/other/x",
        "spiffe://east.acme.mesh/workload",
    })
    void otherShapesHaveNoRole(String text) {
        SpiffeId id = SpiffeId.parse(text);
        assertThat(MeshfedIds.roleOf(id)).isEmpty();
        assertThat(MeshfedIds.namespaceOf(id)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cluster/east", "", "spiffe://Bad/ns/a/vm/b", "not an id"})
    void textThatIsNoSpiffeIdHasNoRole(String text) {
        assertThat(MeshfedIds.roleOf(text)).isEmpty();
    }

    @Test
    void nullTextHasNoRole() {
        assertThat(MeshfedIds.roleOf((String) null)).isEmpty();
    }

    @Test
    void aNameMustBeOnePathSegment() {
        assertThatThrownBy(() -> MeshfedIds.gateway(EAST, "../etc")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name '../etc' must be one SPIFFE path segment (letters, digits, '.', '-', '_')");
        assertThatThrownBy(() -> MeshfedIds.edge(EAST, "")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name '' must be one SPIFFE path segment (letters, digits, '.', '-', '_')");
        assertThatThrownBy(() -> MeshfedIds.agent(EAST, "a/vm/b", "vm-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("namespace 'a/vm/b' must be one SPIFFE path segment (letters, digits, '.', '-', '_')");
        assertThatThrownBy(() -> MeshfedIds.agent(EAST, "demo", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name 'null' must be one SPIFFE path segment (letters, digits, '.', '-', '_')");
        assertThatThrownBy(() -> MeshfedIds.workload(EAST, "demo", "a/b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("service account 'a/b' must be one SPIFFE path segment (letters, digits, '.', '-', '_')");
    }

    @Test
    void aSegmentTheStandardRefusesIsRefusedWithItsRule() {
        assertThatThrownBy(() -> MeshfedIds.gateway(EAST, "gw 1")).isInstanceOf(InvalidSpiffeIdException.class)
                .satisfies(e -> assertThat(((InvalidSpiffeIdException) e).rule())
                        .isEqualTo(InvalidSpiffeIdException.Rule.PATH_CHARACTER))
                .hasMessageContaining("spiffe://east.acme.mesh/meshfed/gateway/gw 1");
        assertThatThrownBy(() -> MeshfedIds.agent(EAST, "..", "vm-1")).isInstanceOf(InvalidSpiffeIdException.class)
                .satisfies(e -> assertThat(((InvalidSpiffeIdException) e).rule())
                        .isEqualTo(InvalidSpiffeIdException.Rule.DOT_SEGMENT));
    }
}
