package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose own mesh issues its SVIDs (its trust domain's backend is {@code external}): the federation serves
 * its roots from the configured bundle file and refuses join tokens for it, saying why.
 */
class ExternalTrustDomainTest {
    @TempDir
    Path dir;

    @Test
    void anExternalMembersRootsAreServedAndNothingJoinsIt() throws Exception {
        TestPki spire = TestPki.create("spire.acme.mesh", Instant.now());
        Path bundle = dir.resolve("spire-bundle.json");
        Files.writeString(bundle, SpiffeBundleJson.encode(spire.bundle()));
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            Path caDir = Files.createDirectories(federation.dataDir.resolve("ca").resolve("spire.acme.mesh"));
            Files.writeString(caDir.resolve("backend.json"), "{\"backend\": \"external\", \"settings\": {"
                    + "\"bundle-file\": \"" + bundle + "\"}}");
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("spire-net").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("spire").setType("vm").setNetwork("spire-net")
                    .build());
            assertThat(federation.identity.bundle(TrustDomain.parse("spire.acme.mesh")).x509Authorities())
                    .containsExactly(spire.root());
            for (Role role : new Role[] {Role.ROLE_AGENT, Role.ROLE_GATEWAY}) {
                assertThatThrownBy(() -> admin.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("spire")
                        .setRole(role).setNamespace("demo").build())).isInstanceOfSatisfying(
                                StatusRuntimeException.class, e -> {
                                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                                    assertThat(e.getStatus().getDescription()).contains("external trust domain"
                                            + " spire.acme.mesh: its own mesh issues its SVIDs");
                                });
            }
        }
    }
}
