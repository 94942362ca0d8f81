package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListIdentitiesRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeId;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 review: a second agent token of the same member and namespace (scoped to another service) tries to join
 * under the name of an agent that already joined, to get an SVID with the victim's SPIFFE ID (the one pinned on its
 * endpoints) and replace its scope. An identity joins once: ALREADY_EXISTS, and the victim's scope stays.
 */
class JoinTakeoverTest {
    @TempDir
    Path dir;

    @Test
    void aTokenCannotJoinUnderAnIdentityThatAlreadyJoined() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            SpiffeId victim = SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/vm/vm-1");
            federation.join(federation.agentToken("west", "demo", "hello.demo"), Role.ROLE_AGENT, "west", "vm-1",
                    victim);

            String otherToken = federation.agentToken("west", "demo", "junk.demo");
            StatusRuntimeException refused = null;
            try {
                federation.join(otherToken, Role.ROLE_AGENT, "west", "vm-1", victim);
            } catch (StatusRuntimeException e) {
                refused = e;
            }
            var record = admin.listIdentities(ListIdentitiesRequest.newBuilder().setMember("west").build())
                    .getIdentitiesList().stream().filter(i -> i.getSpiffeId().equals(victim.toString()))
                    .findFirst().orElseThrow();
            assertThat(record.getServicesList()).as("the victim's scope").containsExactly("hello.demo");
            assertThat(refused).as("joining under an existing, unrevoked SPIFFE ID is refused").isNotNull();
            assertThat(refused.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.ALREADY_EXISTS);
            assertThat(refused.getStatus().getDescription()).startsWith("already_joined: " + victim + " joined at")
                    .contains("another joiner may not take over its identity");
        }
    }
}
