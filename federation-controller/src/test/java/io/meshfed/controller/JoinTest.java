package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RenewResponse;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.X509SvidVerifier;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JoinTest {
    private static final SpiffeId EAST_GW = SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw-1");

    @TempDir
    Path dir;
    private TestFederation federation;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private static void refused(ThrowingCallable call, Status.Code code, String reason) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).startsWith(reason);
        });
    }

    @Test
    void validTokenGivesAnSvidTheBundleSetAndTheControllerAddressOnce() throws Exception {
        String token = federation.token("east", Role.ROLE_GATEWAY);
        TestFederation.Joined joined = federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW);
        assertThat(joined.response().getSpiffeId()).isEqualTo(EAST_GW.toString());
        X509Svid svid = joined.svid();
        assertThat(svid.leaf().getPublicKey()).isEqualTo(joined.keys().getPublic());
        assertThat(Duration.between(svid.notBefore(), svid.notAfter())).isBetween(Duration.ofHours(24),
                Duration.ofHours(24).plusMinutes(1));
        // The bundle set in the response verifies the new SVID and has the federation's and both members' domains.
        BundleSet set = BundleSet.of(joined.response().getBundles().getVersion(),
                joined.response().getBundles().getBundlesList().stream().map(b -> TrustBundle.of(
                        TrustDomain.parse(b.getTrustDomain()), b.getX509AuthoritiesList().stream()
                                .map(d -> io.meshfed.trust.Pem.certificateFromDer(d.toByteArray())).toList()))
                        .toList());
        assertThat(set.trustDomains()).extracting(TrustDomain::name)
                .containsExactly("acme.mesh", "east.acme.mesh", "west.acme.mesh");
        assertThat(new X509SvidVerifier(federation.clock).verify(svid.chain(), set)).isEqualTo(EAST_GW);
        assertThat(joined.response().getControllerAddressesList()).containsExactly(
                "127.0.0.1:" + federation.address().getPort());
        // The member now lists the identity.
        assertThat(federation.admin().listMembers(ListRequest.getDefaultInstance()).getMembersList().stream()
                .filter(m -> m.getName().equals("east")).findFirst().orElseThrow().getIdentitiesList())
                .containsExactly(EAST_GW.toString());

        refused(() -> federation.join(token, Role.ROLE_GATEWAY, "east", "gw-2",
                SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw-2")),
                Status.Code.PERMISSION_DENIED, "token_used: the join token was already used");
    }

    @Test
    void expiredTokenIsRefused() throws Exception {
        String token = federation.admin().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                .setRole(Role.ROLE_GATEWAY).setTtlSeconds(60).build()).getToken();
        federation.clock.advance(Duration.ofMinutes(2));
        refused(() -> federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW),
                Status.Code.PERMISSION_DENIED, "token_expired: the join token expired at");
    }

    @Test
    void forgedAndMalformedTokensAreRefused() throws Exception {
        String token = federation.token("east", Role.ROLE_GATEWAY);
        String[] parts = token.split("\\.");
        String forgedSecret = parts[0] + "." + parts[1] + "." + "A".repeat(43) + "." + parts[3];
        refused(() -> federation.join(forgedSecret, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW),
                Status.Code.PERMISSION_DENIED, "invalid_token: the join token is not valid");
        String unknownId = parts[0] + ".0123456789abcdef." + parts[2] + "." + parts[3];
        refused(() -> federation.join(unknownId, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW),
                Status.Code.PERMISSION_DENIED, "invalid_token");
        refused(() -> JoinServiceGrpc.newBlockingStub(federation.joinChannel(parts[3])).join(
                io.meshfed.api.v1.JoinRequest.newBuilder().setToken("not-a-token").setRole(Role.ROLE_GATEWAY).build()),
                Status.Code.INVALID_ARGUMENT, "malformed_token");
        // The forged attempts did not use the token up.
        assertThat(federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW).response().getSpiffeId())
                .isEqualTo(EAST_GW.toString());
    }

    @Test
    void wrongRoleAndWrongMemberAreRefused() throws Exception {
        String token = federation.token("east", Role.ROLE_AGENT);
        refused(() -> federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW),
                Status.Code.PERMISSION_DENIED, "wrong_role: the join token is for role agent, not gateway");
        refused(() -> federation.join(token, Role.ROLE_AGENT, "west", "vm-1",
                SpiffeId.parse("spiffe://west.acme.mesh/ns/default/vm/vm-1")),
                Status.Code.PERMISSION_DENIED, "wrong_member: the join token is for member east, not west");
    }

    @Test
    void csrForAnotherMembersIdIsRefused() throws Exception {
        String token = federation.token("east", Role.ROLE_GATEWAY);
        refused(() -> federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1",
                SpiffeId.parse("spiffe://west.acme.mesh/meshfed/gateway/gw-1")),
                Status.Code.INVALID_ARGUMENT, "csr_refused: the CSR asks for [spiffe://west.acme.mesh");
        refused(() -> federation.join(token, Role.ROLE_GATEWAY, "east", "../etc", EAST_GW),
                Status.Code.INVALID_ARGUMENT, "bad_name");
    }

    @Test
    void aControllerOfAnotherFederationIsNotTrustedWithTheToken() throws Exception {
        String token = federation.token("east", Role.ROLE_GATEWAY);
        String otherPin = "B".repeat(43);
        assertThatThrownBy(() -> JoinServiceGrpc.newBlockingStub(federation.joinChannel(otherPin))
                .join(io.meshfed.api.v1.JoinRequest.newBuilder().setToken(token).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE))
                .hasStackTraceContaining("does not match the pin in the join token");
    }

    @Test
    void renewGivesANewSvidForTheSameIdOverMtls() throws Exception {
        TestFederation.Joined joined = federation.join(federation.token("east", Role.ROLE_GATEWAY),
                Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW);
        KeyPair next = KeyAlgorithm.EC_P256.generate();
        RenewResponse renewed = JoinServiceGrpc.newBlockingStub(federation.channel(joined.svid())).renew(
                RenewRequest.newBuilder().setCsr(ByteString.copyFrom(
                        CertificateSigningRequests.createDer(next, EAST_GW))).build());
        X509Svid svid = X509Svid.of(EAST_GW, renewed.getSvidChainList().stream()
                .map(d -> io.meshfed.trust.Pem.certificateFromDer(d.toByteArray())).toList(), next.getPrivate());
        assertThat(svid.leaf().getSerialNumber()).isNotEqualTo(joined.svid().leaf().getSerialNumber());

        refused(() -> JoinServiceGrpc.newBlockingStub(federation.channel(joined.svid())).renew(
                RenewRequest.newBuilder().setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(next,
                        SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw-9")))).build()),
                Status.Code.INVALID_ARGUMENT, "csr_refused");
        refused(() -> JoinServiceGrpc.newBlockingStub(federation.joinChannel(TestFederation.pinOf(
                federation.token("east", Role.ROLE_GATEWAY)))).renew(RenewRequest.getDefaultInstance()),
                Status.Code.UNAUTHENTICATED, "this call needs a client certificate");
    }

    @Test
    void joinResultsAreCountedInMetrics() throws Exception {
        String token = federation.token("east", Role.ROLE_GATEWAY);
        federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW);
        assertThatThrownBy(() -> federation.join(token, Role.ROLE_GATEWAY, "east", "gw-1", EAST_GW));
        String metrics = Http.get(federation, "/metrics").body();
        assertThat(metrics).contains("meshfed_join_total{reason=\"joined\",result=\"success\"} 1.0")
                .contains("meshfed_join_total{reason=\"token_used\",result=\"failure\"} 1.0");
        assertThat(List.of(metrics.split("\n"))).anyMatch(l -> l.startsWith("meshfed_store_revision "));
    }
}
