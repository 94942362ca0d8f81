package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.IdentityInfo;
import io.meshfed.api.v1.ListIdentitiesRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Member;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RevokeIdentityRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Revoking a joined identity, end to end over real mTLS: its config stream is closed, its workloads and gateway
 * leave everyone's snapshot within seconds, it cannot renew, open a stream or call anything again.
 */
class IdentityRevocationTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final SpiffeId AGENT = SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/vm/vm-1");
    private static final SpiffeId WEST_GW = SpiffeId.parse("spiffe://west.acme.mesh/meshfed/gateway/gw-1");

    @TempDir
    Path dir;
    private TestFederation federation;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                .build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build()); // gateway: the joined one
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private static Optional<Service> service(ConfigSnapshot s, String name) {
        return s.getServicesList().stream().filter(x -> x.getName().equals(name)).findFirst();
    }

    private static WorkloadInstance workload(String service, String address) {
        return WorkloadInstance.newBuilder().setService(service).setNamespace("demo").setAddress(address)
                .setPort(8080).setHealthy(true).setInbound(address + ":15443").build();
    }

    private static void refused(ThrowingCallable call, Status.Code code, String description) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(description);
        });
    }

    private IdentityInfo identity(String spiffeId) throws Exception {
        return federation.admin().listIdentities(ListIdentitiesRequest.getDefaultInstance()).getIdentitiesList()
                .stream().filter(i -> i.getSpiffeId().equals(spiffeId)).findFirst().orElseThrow();
    }

    @Test
    void aRevokedAgentLosesItsStreamItsWorkloadsItsRenewalAndEveryCall() throws Exception {
        TestFederation.Joined joined = federation.join(federation.agentToken("east", "demo"), Role.ROLE_AGENT,
                "east", "vm-1", AGENT);
        ManagedChannel agent = federation.channel(joined.svid());
        try (TestSubscriber agentStream = new TestSubscriber(agent);
                TestSubscriber eastGateway = new TestSubscriber(federation.channel(
                        federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw")))) {
            agentStream.awaitSnapshot(s -> true, WAIT);
            RegistrationServiceGrpc.newBlockingStub(agent).reportWorkloads(WorkloadReport.newBuilder()
                    .addWorkloads(workload("hello", "10.0.1.5")).build());
            eastGateway.awaitSnapshot(s -> service(s, "hello").isPresent(), WAIT);
            assertThat(identity(AGENT.toString()).getRevoked()).isFalse();

            IdentityInfo revoked = federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder()
                    .setSpiffeId(AGENT.toString()).build());
            assertThat(revoked.getRevoked()).isTrue();
            assertThat(revoked.getRevokedAt().getSeconds()).isPositive();

            // Its open stream ends with PERMISSION_DENIED saying why.
            await().atMost(WAIT).until(() -> agentStream.error() != null);
            assertThat(Status.fromThrowable(agentStream.error()).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(Status.fromThrowable(agentStream.error()).getDescription())
                    .startsWith(AGENT + " was revoked at");
            // Its workload leaves the other subscriber's snapshot.
            ConfigSnapshot withdrawn = eastGateway.awaitSnapshot(s -> service(s, "hello").isEmpty(), WAIT);
            // Proxies are told, so they refuse the still-valid SVID as a peer.
            assertThat(withdrawn.getRevokedIdentitiesList()).contains(AGENT.toString());
            // It cannot renew, and the refusal says why.
            refused(() -> JoinServiceGrpc.newBlockingStub(agent).renew(RenewRequest.newBuilder()
                    .setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(KeyAlgorithm.EC_P256.generate(),
                            AGENT))).build()), Status.Code.PERMISSION_DENIED,
                    "revoked: " + AGENT + " was revoked at");
            // A new stream is refused.
            try (TestSubscriber again = new TestSubscriber(agent)) {
                await().atMost(WAIT).until(() -> again.error() != null);
                assertThat(Status.fromThrowable(again.error()).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(Status.fromThrowable(again.error()).getDescription()).contains(AGENT + " was revoked");
                assertThat(again.latest()).isNull();
            }
            // Any other call with its still-valid SVID is refused before it does anything.
            refused(() -> RegistrationServiceGrpc.newBlockingStub(agent).reportWorkloads(WorkloadReport.newBuilder()
                    .addWorkloads(workload("hello", "10.0.1.5")).build()), Status.Code.PERMISSION_DENIED,
                    AGENT + " was revoked at");
            assertThat(federation.admin().listServices(ListRequest.getDefaultInstance()).getServicesList())
                    .noneMatch(s -> s.getName().equals("hello"));
            // It cannot join again under the same name (its stolen SVID would come back to life).
            refused(() -> federation.join(federation.agentToken("east", "demo"), Role.ROLE_AGENT, "east", "vm-1",
                    AGENT), Status.Code.PERMISSION_DENIED, "revoked: " + AGENT + " was revoked at");
        }
        // The admin sees it revoked, and no longer as one of the member's live identities.
        IdentityInfo listed = identity(AGENT.toString());
        assertThat(listed.getRevoked()).isTrue();
        assertThat(listed.getMember()).isEqualTo("east");
        assertThat(listed.getRole()).isEqualTo(Role.ROLE_AGENT);
        assertThat(listed.getNamespace()).isEqualTo("demo");
        Member east = federation.admin().listMembers(ListRequest.getDefaultInstance()).getMembersList().stream()
                .filter(m -> m.getName().equals("east")).findFirst().orElseThrow();
        assertThat(east.getIdentitiesList()).doesNotContain(AGENT.toString());
        assertThat(Http.get(federation, "/metrics").body())
                .contains("meshfed_refusals_total{call=\"grpc\",reason=\"revoked\"}");
    }

    @Test
    void aRevokedGatewayIsNoLongerRoutedTo() throws Exception {
        TestFederation.Joined gateway = federation.join(federation.token("west", Role.ROLE_GATEWAY),
                Role.ROLE_GATEWAY, "west", "gw-1", WEST_GW);
        RegistrationServiceGrpc.newBlockingStub(federation.channel(gateway.svid())).reportReadiness(
                ReadinessReport.newBuilder().setReady(true).addAddresses("127.0.2.1:15443").build());
        RegistrationServiceGrpc.newBlockingStub(federation.channel(federation.memberSvid("west.acme.mesh",
                "/ns/demo/vm/vm-9"))).reportWorkloads(WorkloadReport.newBuilder()
                .addWorkloads(workload("echo", "10.0.2.5")).build());
        federation.admin().export(ExportRequest.newBuilder().setService("echo").setNamespace("demo")
                .addToMembers("east").build());
        try (TestSubscriber eastGateway = new TestSubscriber(federation.channel(
                federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw")))) {
            eastGateway.awaitSnapshot(s -> routesTo(s, "127.0.2.1:15443"), WAIT);

            federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder().setSpiffeId(WEST_GW.toString())
                    .build());
            eastGateway.awaitSnapshot(s -> !routesTo(s, "127.0.2.1:15443"), WAIT);
            // It cannot report itself ready again.
            refused(() -> RegistrationServiceGrpc.newBlockingStub(federation.channel(gateway.svid()))
                    .reportReadiness(ReadinessReport.newBuilder().setReady(true).build()),
                    Status.Code.PERMISSION_DENIED, WEST_GW + " was revoked at");
        }
    }

    private static boolean routesTo(ConfigSnapshot s, String gatewayAddress) {
        return s.getServicesList().stream().flatMap(x -> x.getNetworksList().stream())
                .flatMap(n -> n.getRoutesList().stream()).anyMatch(r -> r.getGatewayAddress().equals(gatewayAddress));
    }

    @Test
    void revokingIsIdempotentAndAnUnknownIdentityIsNamed() throws Exception {
        federation.join(federation.token("west", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "west", "gw-1", WEST_GW);
        RevokeIdentityRequest request = RevokeIdentityRequest.newBuilder().setSpiffeId(WEST_GW.toString()).build();
        IdentityInfo first = federation.admin().revokeIdentity(request);
        federation.clock.advance(Duration.ofMinutes(5));
        IdentityInfo second = federation.admin().revokeIdentity(request);
        assertThat(second).as("a second revoke changes nothing").isEqualTo(first);

        refused(() -> federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder()
                .setSpiffeId("spiffe://west.acme.mesh/meshfed/gateway/ghost").build()), Status.Code.NOT_FOUND,
                "no identity spiffe://west.acme.mesh/meshfed/gateway/ghost joined this federation");
        refused(() -> federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder().setSpiffeId("gw-1")
                .build()), Status.Code.INVALID_ARGUMENT, "'gw-1' is not a SPIFFE ID");
        refused(() -> federation.admin().listIdentities(ListIdentitiesRequest.newBuilder().setMember("ghost")
                .build()), Status.Code.NOT_FOUND, "member 'ghost' does not exist");
        assertThat(federation.admin().listIdentities(ListIdentitiesRequest.newBuilder().setMember("east").build())
                .getIdentitiesList()).isEmpty();
        assertThat(federation.admin().listIdentities(ListIdentitiesRequest.newBuilder().setMember("west").build())
                .getIdentitiesList()).extracting(IdentityInfo::getSpiffeId).containsExactly(WEST_GW.toString());
    }

    @Test
    void identitiesThatJoinedBeforeRecordsExistedAreRecordedAtStartAndCanRenewAndBeRevoked() throws Exception {
        // As an older controller left it: the identity only in its member's record.
        String legacy = "spiffe://east.acme.mesh/ns/shop/vm/old-vm";
        var store = federation.controller().store();
        store.transact(tx -> {
            var east = io.meshfed.controller.model.Records.get(tx, io.meshfed.controller.model.Kind.MEMBER, "east",
                    io.meshfed.controller.model.MemberRecord.class).orElseThrow();
            io.meshfed.controller.model.Records.put(tx, io.meshfed.controller.model.Kind.MEMBER, "east",
                    east.withIdentity(legacy), io.meshfed.controller.store.StoreTransaction.ANY);
            return null;
        });
        federation.restart();
        IdentityInfo recorded = identity(legacy);
        assertThat(recorded.getRole()).isEqualTo(Role.ROLE_AGENT);
        assertThat(recorded.getMember()).isEqualTo("east");
        assertThat(recorded.getNamespace()).as("the namespace of its SPIFFE ID").isEqualTo("shop");
        assertThat(recorded.getServicesList()).isEmpty();
        assertThat(recorded.hasJoinedAt()).as("its join time is unknown").isFalse();
        ManagedChannel channel = federation.channel(federation.memberSvid("east.acme.mesh", "/ns/shop/vm/old-vm"));
        JoinServiceGrpc.newBlockingStub(channel).renew(RenewRequest.newBuilder().setCsr(ByteString.copyFrom(
                CertificateSigningRequests.createDer(KeyAlgorithm.EC_P256.generate(), SpiffeId.parse(legacy))))
                .build());
        assertThat(federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder().setSpiffeId(legacy)
                .build()).getRevoked()).isTrue();
        federation.restart(); // a second start records nothing again and keeps the revocation
        assertThat(identity(legacy).getRevoked()).isTrue();
    }

    @Test
    void revocationHoldsAcrossARestartAndTheJsonApiListsIt() throws Exception {
        federation.join(federation.token("west", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "west", "gw-1", WEST_GW);
        federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder().setSpiffeId(WEST_GW.toString()).build());
        federation.restart();
        // A still-valid SVID of the revoked identity is refused by the restarted controller too.
        ManagedChannel channel = federation.channel(federation.memberSvid("west.acme.mesh", WEST_GW.path()));
        try (TestSubscriber stream = new TestSubscriber(channel)) {
            await().atMost(WAIT).until(() -> stream.error() != null);
            assertThat(Status.fromThrowable(stream.error()).getDescription()).startsWith(WEST_GW + " was revoked at");
        }
        String json = Http.post(federation, "/v1/admin/ListIdentities", "{\"member\": \"west\"}",
                federation.adminSvid()).body();
        assertThat(json).contains("\"spiffeId\": \"" + WEST_GW + "\"").contains("\"revoked\": true");
        String revokedAgain = Http.post(federation, "/v1/admin/RevokeIdentity", "{\"spiffeId\": \"" + WEST_GW
                + "\"}", federation.adminSvid()).body();
        assertThat(revokedAgain).contains("\"revoked\": true");
    }
}
