package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminApiTest {
    @TempDir
    Path dir;
    private TestFederation federation;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        admin = federation.admin();
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private static void fails(ThrowingCallable call, Status.Code code, String text) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(text);
        });
    }

    @Test
    void networksAndMembersAreCreatedValidatedAndListed() {
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("10.0.0.1:15443").build());
        // The same request again is idempotent.
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        var member = admin.addMember(AddMemberRequest.newBuilder().setName("east-vms").setType("vm").setNetwork("east")
                .build());
        assertThat(member.getTrustDomain()).isEqualTo("east-vms.acme.mesh");
        admin.addMember(AddMemberRequest.newBuilder().setName("east-vms").setType("vm").setNetwork("east").build());
        assertThat(admin.listNetworks(ListRequest.getDefaultInstance()).getNetworksList())
                .extracting(n -> n.getName() + "=" + n.getGatewayAddress()).containsExactly("east=10.0.0.1:15443");
        assertThat(admin.listMembers(ListRequest.getDefaultInstance()).getMembersList()).hasSize(1);

        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("East_1").build()),
                Status.Code.INVALID_ARGUMENT, "must be a DNS label");
        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("x").setGatewayAddress("nohost").build()),
                Status.Code.INVALID_ARGUMENT, "must be HOST:PORT");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build()),
                Status.Code.FAILED_PRECONDITION, "network 'west' does not exist; create it with: meshfed network create west");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("k8s").setType("kubernetes").setNetwork("east")
                .build()), Status.Code.INVALID_ARGUMENT, "kubernetes members are added by 'meshfed cluster join k8s");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("dc1").setType("consul").setNetwork("east")
                .build()), Status.Code.INVALID_ARGUMENT, "consul members are added by 'meshfed consul join dc1 --address URL"
                + " --network NET', which also hands over the connector's credentials");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("n1").setType("nomad").setNetwork("east")
                .build()), Status.Code.INVALID_ARGUMENT, "member type 'nomad' does not exist; the types are vm,"
                + " kubernetes, consul");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("other").setType("vm").setNetwork("east")
                .setTrustDomain("east-vms.acme.mesh").build()), Status.Code.ALREADY_EXISTS, "belongs to member 'east-vms'");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("fed").setType("vm").setNetwork("east")
                .setTrustDomain("acme.mesh").build()), Status.Code.INVALID_ARGUMENT, "the federation's own");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("bad").setType("vm").setNetwork("east")
                .setTrustDomain("Bad TD").build()), Status.Code.INVALID_ARGUMENT, "trust domain: invalid SPIFFE ID");
    }

    @Test
    void tokensAndExportsNameWhatIsMissing() {
        fails(() -> admin.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("ghost")
                .setRole(Role.ROLE_AGENT).build()), Status.Code.NOT_FOUND, "member 'ghost' does not exist");
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        fails(() -> admin.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east").build()),
                Status.Code.INVALID_ARGUMENT, "needs a role");
        fails(() -> admin.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                .setRole(Role.ROLE_AGENT).build()), Status.Code.INVALID_ARGUMENT, "an agent token needs a scope");
        var token = admin.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                .setRole(Role.ROLE_AGENT).addServices("hello.demo").build());
        assertThat(token.getServicesList()).containsExactly("hello.demo");
        assertThat(token.getNamespace()).isEqualTo("demo");
        assertThat(token.getToken()).startsWith("mf1." + token.getId() + ".");
        assertThat(token.getExpiresAt().getSeconds() - federation.clock.instant().getEpochSecond())
                .isBetween(3590L, 3600L);

        ExportState state = admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .addToMembers("east").build());
        assertThat(state.getToMembersList()).containsExactly("east");
        fails(() -> admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .addToMembers("ghost").build()), Status.Code.NOT_FOUND, "member 'ghost' does not exist");
        fails(() -> admin.export(ExportRequest.newBuilder().setService("hello").build()),
                Status.Code.INVALID_ARGUMENT, "--to MEMBER, --to TRUST-DOMAIN (federated) or --all");
        ExportState all = admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .setToAll(true).build());
        assertThat(all.getToAll()).isTrue();
        ExportState none = admin.unexport(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .setToAll(true).addToMembers("east").build());
        assertThat(none.getToAll()).isFalse();
        assertThat(none.getToMembersList()).isEmpty();
    }

    @Test
    void adminCallsNeedTheAdminIdentity() throws Exception {
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        var gateway = AdminServiceGrpc.newBlockingStub(federation.channel(
                federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw")));
        fails(() -> gateway.listMembers(ListRequest.getDefaultInstance()), Status.Code.PERMISSION_DENIED,
                "is not an admin identity");
        var anonymous = AdminServiceGrpc.newBlockingStub(federation.joinChannel(
                io.meshfed.trust.SvidCertificates.pin(federation.identity.bundle(TestFederation.FEDERATION_TD)
                        .x509Authorities().get(0))));
        fails(() -> anonymous.listMembers(ListRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED,
                "needs a client certificate");
    }

    @Test
    void theSameOperationsWorkAsJsonOverHttps() throws Exception {
        HttpResponse<String> created = Http.post(federation, "/v1/admin/CreateNetwork",
                "{\"name\": \"east\", \"gatewayAddress\": \"10.0.0.1:15443\"}", federation.adminSvid());
        assertThat(created.statusCode()).isEqualTo(200);
        assertThat(created.body()).contains("\"gatewayAddress\": \"10.0.0.1:15443\"");
        HttpResponse<String> list = Http.post(federation, "/v1/admin/ListNetworks", "{}", federation.adminSvid());
        assertThat(list.body()).contains("\"name\": \"east\"");
        HttpResponse<String> bad = Http.post(federation, "/v1/admin/AddMember",
                "{\"name\": \"x\", \"type\": \"vm\", \"network\": \"nowhere\"}", federation.adminSvid());
        assertThat(bad.statusCode()).isEqualTo(412);
        assertThat(bad.body()).contains("\"code\":\"FAILED_PRECONDITION\"").contains("network 'nowhere' does not exist");
        HttpResponse<String> garbage = Http.post(federation, "/v1/admin/CreateNetwork", "{not json",
                federation.adminSvid());
        assertThat(garbage.statusCode()).isEqualTo(400);
        HttpResponse<String> unknown = Http.post(federation, "/v1/admin/DropEverything", "{}", federation.adminSvid());
        assertThat(unknown.statusCode()).isEqualTo(404);
        HttpResponse<String> anonymous = Http.post(federation, "/v1/admin/ListNetworks", "{}", null);
        assertThat(anonymous.statusCode()).isEqualTo(403);
        assertThat(anonymous.body()).contains("needs the admin client certificate");
    }

    @Test
    void healthReadinessAndMetricsNeedNoCertificate() throws Exception {
        assertThat(Http.get(federation, "/healthz").body()).isEqualTo("ok\n");
        HttpResponse<String> ready = Http.get(federation, "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        String metrics = Http.get(federation, "/metrics").body();
        assertThat(metrics).contains("# TYPE meshfed_subscribers gauge").contains("meshfed_config_pushes_total")
                .contains("meshfed_store_revision");
    }

    @Test
    void statusNamesTheTrustDomainAndRevision() {
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        var status = admin.status(ListRequest.getDefaultInstance());
        assertThat(status.getTrustDomain()).isEqualTo("acme.mesh");
        assertThat(status.getStoreRevision()).isEqualTo(federation.controller().store().revision()).isPositive();
        assertThat(status.getSubscribersList()).isEmpty();
    }
}
