package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.CallerPolicy;
import io.meshfed.api.v1.CallerPolicyRequest;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.CallerRule.Effect;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.DeleteCallerPolicyRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.authz.CallerPolicyOperations;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.catalog.SnapshotBuilder;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caller policies against a real controller (SQLite store, gRPC and JSON over mTLS): stored, listed, deleted and
 * refused with the field named; pushed in the authorization of the networks that serve the service only; admin-only.
 */
class CallerPoliciesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String EXTRA_VMS = "spiffe://west-extra.acme.mesh/ns/demo/vm/*";

    @TempDir
    Path dir;
    private TestFederation federation;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                .build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress("127.0.2.1:15443")
                .build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west-extra").setType("vm").setNetwork("west").build());
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private static CallerPolicyRequest request(String service, Effect effect, String from) {
        String[] parts = service.split("\\.");
        return CallerPolicyRequest.newBuilder().setService(parts[0]).setNamespace(parts.length > 1 ? parts[1] : "")
                .setEffect(effect).setFrom(from).build();
    }

    private static void refused(Runnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    private void serveHelloInEast() throws Exception {
        RegistrationServiceGrpc.newBlockingStub(federation.channel(federation.memberSvid("east.acme.mesh",
                "/ns/demo/vm/vm-1"))).reportWorkloads(WorkloadReport.newBuilder().addWorkloads(WorkloadInstance
                .newBuilder().setService("hello").setNamespace("demo").setAddress("10.0.1.5").setPort(8080)
                .setHealthy(true).setInbound("10.0.1.5:15006")).build());
        admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west").build());
    }

    private ConfigSnapshot snapshotOf(String member, String network) {
        return SnapshotBuilder.build(CatalogView.load(federation.controller().store(),
                new TrustState(federation.identity)), member, network);
    }

    private static Optional<AuthorizationPolicy> hello(ConfigSnapshot s) {
        return s.getAuthorizationList().stream().filter(p -> p.getService().equals("hello")).findFirst();
    }

    @Test
    void policiesAreStoredListedAndDeletedAndTheSameRuleAgainIsTheSamePolicy() {
        CallerPolicy allow = admin.putCallerPolicy(request("hello.demo", Effect.ALLOW, EXTRA_VMS));
        assertThat(allow.getId()).matches("[0-9a-f]{12}");
        assertThat(allow.getService()).isEqualTo("hello");
        assertThat(allow.getNamespace()).isEqualTo("demo");
        assertThat(allow.getEffect()).isEqualTo(Effect.ALLOW);
        assertThat(allow.getFrom()).isEqualTo(EXTRA_VMS);

        long revision = federation.controller().store().revision();
        assertThat(admin.putCallerPolicy(request("hello.demo", Effect.ALLOW, EXTRA_VMS))).as("idempotent")
                .isEqualTo(allow);
        assertThat(federation.controller().store().revision()).as("the same rule again writes nothing")
                .isEqualTo(revision);

        CallerPolicy deny = admin.putCallerPolicy(request("hello.demo", Effect.DENY,
                "spiffe://west-extra.acme.mesh/ns/demo/vm/vm-9"));
        CallerPolicy other = admin.putCallerPolicy(request("echo", Effect.ALLOW, "spiffe://west.acme.mesh"));
        assertThat(other.getNamespace()).as("namespace defaults like exports").isEqualTo("default");
        assertThat(deny.getId()).isNotEqualTo(allow.getId());
        assertThat(admin.listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesList())
                .as("by namespace, service, from").containsExactly(other, allow, deny);

        assertThat(admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(allow.getId()).build()))
                .isEqualTo(allow);
        assertThat(admin.listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesList())
                .containsExactly(other, deny);
        refused(() -> admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(allow.getId()).build()),
                Status.Code.NOT_FOUND, "caller policy '" + allow.getId() + "' does not exist");
    }

    @Test
    void invalidInputIsRefusedNamingTheFieldAndNothingIsStored() {
        refused(() -> admin.putCallerPolicy(request("Hello.demo", Effect.ALLOW, EXTRA_VMS)),
                Status.Code.INVALID_ARGUMENT, "service name 'Hello' must be a DNS label");
        refused(() -> admin.putCallerPolicy(request("hello.de_mo", Effect.ALLOW, EXTRA_VMS)),
                Status.Code.INVALID_ARGUMENT, "namespace name 'de_mo' must be a DNS label");
        refused(() -> admin.putCallerPolicy(request("hello.demo", Effect.EFFECT_UNSPECIFIED, EXTRA_VMS)),
                Status.Code.INVALID_ARGUMENT, "effect must be ALLOW or DENY");
        refused(() -> admin.putCallerPolicy(request("hello.demo", Effect.DENY, "spiffe://west.acme.mesh/ns/*/sa/x")),
                Status.Code.INVALID_ARGUMENT, "from: invalid SPIFFE ID pattern 'spiffe://west.acme.mesh/ns/*/sa/x':"
                        + " it may use '*' only as its whole last path segment");
        refused(() -> admin.putCallerPolicy(request("hello.demo", Effect.DENY, "")),
                Status.Code.INVALID_ARGUMENT, "from: invalid SPIFFE ID pattern '': it is empty");
        refused(() -> admin.putCallerPolicy(request("hello.demo", Effect.DENY, "spiffe://td/" + "a".repeat(3000))),
                Status.Code.INVALID_ARGUMENT, "longer than 2048 bytes");
        refused(() -> admin.deleteCallerPolicy(DeleteCallerPolicyRequest.getDefaultInstance()),
                Status.Code.INVALID_ARGUMENT, "id is required");
        assertThat(admin.listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesCount()).isZero();
    }

    @Test
    void aServiceHoldsAtMost256PoliciesAndTheNextIsRefusedWithTheLimit() {
        for (int i = 0; i < CallerPolicyOperations.MAX_PER_SERVICE; i++) {
            admin.putCallerPolicy(request("hello.demo", Effect.ALLOW, "spiffe://west.acme.mesh/ns/demo/sa/s" + i));
        }
        refused(() -> admin.putCallerPolicy(request("hello.demo", Effect.DENY, "spiffe://west.acme.mesh")),
                Status.Code.FAILED_PRECONDITION, "service hello.demo has 256 caller policies, the most one service"
                        + " may have (256)");
        assertThat(admin.putCallerPolicy(request("hello.demo", Effect.ALLOW, "spiffe://west.acme.mesh/ns/demo/sa/s0"))
                .getFrom()).as("a rule it already has is still the same policy").endsWith("/sa/s0");
        admin.putCallerPolicy(request("echo.demo", Effect.DENY, "spiffe://west.acme.mesh"));
    }

    @Test
    void rulesReachTheSubscribersOfTheServingNetworkOnlyAndChangeTheirVersion() throws Exception {
        serveHelloInEast();
        try (TestSubscriber east = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                "/meshfed/gateway/gw")));
                TestSubscriber west = new TestSubscriber(federation.channel(federation.memberSvid("west.acme.mesh",
                        "/meshfed/gateway/gw")))) {
            ConfigSnapshot before = east.awaitSnapshot(s -> hello(s).isPresent(), WAIT);
            assertThat(hello(before).orElseThrow().getRulesList()).isEmpty();
            String westVersion = west.awaitSnapshot(s -> !s.getServicesList().isEmpty(), WAIT).getVersion();

            CallerPolicy deny = admin.putCallerPolicy(request("hello.demo", Effect.DENY,
                    "spiffe://west.acme.mesh/ns/demo/vm/bad"));
            CallerPolicy allow = admin.putCallerPolicy(request("hello.demo", Effect.ALLOW, EXTRA_VMS));
            ConfigSnapshot after = east.awaitSnapshot(s -> hello(s).orElseThrow().getRulesCount() == 2, WAIT);
            assertThat(after.getVersion()).isNotEqualTo(before.getVersion());
            AuthorizationPolicy policy = hello(after).orElseThrow();
            assertThat(policy.getAllowedTrustDomainsList()).as("the export default is unchanged")
                    .containsExactly("east.acme.mesh", "west.acme.mesh");
            assertThat(policy.getRulesList()).as("sorted by from ('-' before '.')").containsExactly(
                    CallerRule.newBuilder().setId(allow.getId()).setEffect(Effect.ALLOW).setFrom(EXTRA_VMS).build(),
                    CallerRule.newBuilder().setId(deny.getId()).setEffect(Effect.DENY).setFrom(deny.getFrom()).build());

            // West does not serve hello.demo: it gets no authorization for it, and nothing new at all.
            assertThat(hello(snapshotOf("west", "west"))).isEmpty();
            assertThat(snapshotOf("west", "west").getVersion()).isEqualTo(westVersion);
            assertThat(federation.controller().streams().status()).filteredOn(s -> s.getSpiffeId()
                    .startsWith("spiffe://west.acme.mesh/")).singleElement()
                    .satisfies(s -> assertThat(s.getSentVersion()).isEqualTo(westVersion));

            // The same content is the same version; deleting the rules brings back the version before them.
            assertThat(snapshotOf("east", "east").getVersion()).isEqualTo(after.getVersion());
            admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(deny.getId()).build());
            admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(allow.getId()).build());
            assertThat(east.awaitSnapshot(s -> hello(s).orElseThrow().getRulesCount() == 0, WAIT).getVersion())
                    .isEqualTo(before.getVersion());
        }
    }

    @Test
    void anAllowPolicyMakesTheServiceVisibleToTheMemberWhoseCallersItNamesAndADenyDoesNot() throws Exception {
        serveHelloInEast();
        try (TestSubscriber extra = new TestSubscriber(federation.channel(federation.memberSvid(
                "west-extra.acme.mesh", "/ns/demo/vm/extra-1")))) {
            extra.awaitSnapshot(s -> true, WAIT);
            assertThat(snapshotOf("west-extra", "west").getServicesList()).as("not exported to west-extra").isEmpty();

            admin.putCallerPolicy(request("hello.demo", Effect.DENY, "spiffe://west-extra.acme.mesh"));
            assertThat(snapshotOf("west-extra", "west").getServicesList()).as("a deny grants nothing").isEmpty();

            CallerPolicy allow = admin.putCallerPolicy(request("hello.demo", Effect.ALLOW, EXTRA_VMS));
            ConfigSnapshot visible = extra.awaitSnapshot(s -> !s.getServicesList().isEmpty(), WAIT);
            assertThat(visible.getServices(0).getName()).isEqualTo("hello");
            assertThat(visible.getServices(0).getNetworks(0).getRoutesList()).singleElement()
                    .satisfies(r -> assertThat(r.getSni()).isEqualTo("8080.hello.demo.svc.meshfed"));
            assertThat(visible.getOutboundList()).extracting(o -> o.getService()).containsExactly("hello");
            assertThat(snapshotOf("west", "west").getServicesList()).extracting(s -> s.getName())
                    .as("west, exported to, unchanged").containsExactly("hello");
            ConfigSnapshot east = snapshotOf("east", "east");
            assertThat(hello(east).orElseThrow().getAllowedTrustDomainsList())
                    .as("the allow is a rule at the serving side, not an export").doesNotContain("west-extra.acme.mesh");

            admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(allow.getId()).build());
            extra.awaitSnapshot(s -> s.getServicesList().isEmpty(), WAIT);
        }
    }

    @Test
    void theSameOperationsWorkAsJsonWithTheirStatusCodesAndErrorBodies() throws Exception {
        HttpResponse<String> put = Http.post(federation, "/v1/admin/PutCallerPolicy", "{\"service\": \"hello\","
                + " \"namespace\": \"demo\", \"effect\": \"ALLOW\", \"from\": \"" + EXTRA_VMS + "\"}",
                federation.adminSvid());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        String id = admin.listCallerPolicies(ListRequest.getDefaultInstance()).getPolicies(0).getId();
        assertThat(put.body()).contains("\"id\": \"" + id + "\"").contains("\"effect\": \"ALLOW\"");
        assertThat(Http.post(federation, "/v1/admin/ListCallerPolicies", "{}", federation.adminSvid()).body())
                .contains("\"from\": \"" + EXTRA_VMS + "\"");

        HttpResponse<String> bad = Http.post(federation, "/v1/admin/PutCallerPolicy", "{\"service\": \"hello\","
                + " \"effect\": \"DENY\", \"from\": \"spiffe://west.acme.mesh/\"}", federation.adminSvid());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"code\":\"INVALID_ARGUMENT\"").contains("from: invalid SPIFFE ID pattern");
        HttpResponse<String> unknownEffect = Http.post(federation, "/v1/admin/PutCallerPolicy",
                "{\"service\": \"hello\", \"effect\": \"MAYBE\", \"from\": \"spiffe://west.acme.mesh\"}",
                federation.adminSvid());
        assertThat(unknownEffect.statusCode()).isEqualTo(400);

        HttpResponse<String> missing = Http.post(federation, "/v1/admin/DeleteCallerPolicy", "{\"id\": \"0123abcd\"}",
                federation.adminSvid());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"code\":\"NOT_FOUND\"")
                .contains("caller policy '0123abcd' does not exist");
        HttpResponse<String> deleted = Http.post(federation, "/v1/admin/DeleteCallerPolicy", "{\"id\": \"" + id + "\"}",
                federation.adminSvid());
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(admin.listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesCount()).isZero();
    }

    @Test
    void aGatewaysOrAnAgentsSvidCannotChangeOrReadPolicies() throws Exception {
        admin.putCallerPolicy(request("hello.demo", Effect.DENY, "spiffe://west-extra.acme.mesh"));
        for (String path : List.of("/meshfed/gateway/gw", "/ns/demo/vm/extra-1")) {
            var stolen = AdminServiceGrpc.newBlockingStub(federation.channel(federation.memberSvid(
                    "west-extra.acme.mesh", path)));
            String who = "spiffe://west-extra.acme.mesh" + path;
            refused(() -> stolen.putCallerPolicy(request("hello.demo", Effect.ALLOW, "spiffe://west-extra.acme.mesh")),
                    Status.Code.PERMISSION_DENIED, who + " is not an admin identity");
            refused(() -> stolen.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(admin
                    .listCallerPolicies(ListRequest.getDefaultInstance()).getPolicies(0).getId()).build()),
                    Status.Code.PERMISSION_DENIED, who + " is not an admin identity");
            refused(() -> stolen.listCallerPolicies(ListRequest.getDefaultInstance()),
                    Status.Code.PERMISSION_DENIED, who + " is not an admin identity");
        }
        HttpResponse<String> json = Http.post(federation, "/v1/admin/DeleteCallerPolicy", "{\"id\": \"x\"}",
                federation.memberSvid("west-extra.acme.mesh", "/meshfed/gateway/gw"));
        assertThat(json.statusCode()).isEqualTo(403);
        assertThat(json.body()).contains("is not an admin identity");
        assertThat(admin.listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesList())
                .singleElement().satisfies(p -> assertThat(p.getEffect()).isEqualTo(Effect.DENY));
    }
}
