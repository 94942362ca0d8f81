package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ConsulState;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.RegisterConsulRequest;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.UnregisterConsulRequest;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.connector.consul.testing.ConsulAcl;
import io.meshfed.controller.connector.consul.testing.ConsulTestServer;
import io.meshfed.controller.model.ConsulRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import static io.meshfed.controller.testing.TestSubscriber.remote;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Consul datacenter (the in-process test server, to Consul's documented HTTP API) as a member of a federation
 * that also has a VM network: join refuses an unreachable agent, a wrong datacenter and tokens without the rights,
 * naming what is missing and storing nothing; the tagged legacy service reaches the VMs with only its passing
 * instance healthy; a federated service exported to the datacenter is registered in Consul at its gateway and
 * leaves on unexport; an agent outage keeps the services for the grace period, then withdraws them until the
 * agent is back; leaving removes everything meshfed registered.
 */
class ConsulMemberTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String GATEWAY = "127.0.40.1:15443";
    private static final String NODE = "meshfed-gateway-consul-net";

    @TempDir
    Path dir;

    @Test
    void joinRefusesWhatItCannotUseNamingTheCauseAndStoresNothing() throws Exception {
        try (TestFederation federation = TestFederation.start(dir);
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            int closed;
            try (ServerSocket s = new ServerSocket(0)) {
                closed = s.getLocalPort();
            }
            assertRefused(admin, request("http://127.0.0.1:" + closed), Status.Code.FAILED_PRECONDITION,
                    "the Consul agent at http://127.0.0.1:" + closed + " does not answer: agent unreachable");
            assertRefused(admin, request(consul.address().toString()).setDatacenter("dc9"),
                    Status.Code.FAILED_PRECONDITION, "datacenter 'dc9' is not known to the Consul agent at "
                            + consul.address() + " (it knows dc1)");
            assertRefused(admin, request("ftp://127.0.0.1:21"), Status.Code.INVALID_ARGUMENT,
                    "must be http://HOST:PORT or https://HOST:PORT");
            assertRefused(admin, request(consul.address().toString()).setGatewayAddress(""),
                    Status.Code.FAILED_PRECONDITION, "network 'consul-net' has no gateway address");

            consul.enableAcls();
            assertRefused(admin, request(consul.address().toString()), Status.Code.FAILED_PRECONDITION,
                    "the datacenter enforces ACLs and no token was given");
            assertRefused(admin, request(consul.address().toString()).setToken("not-a-token"),
                    Status.Code.FAILED_PRECONDITION, "the Consul token was refused (ACL not found)");
            String readOnly = consul.createToken("read only",
                    ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ),
                    ConsulAcl.Rule.prefix("node", "", ConsulAcl.Access.READ));
            assertRefused(admin, request(consul.address().toString()).setToken(readOnly),
                    Status.Code.FAILED_PRECONDITION, "may not write node '" + NODE + "'",
                    "add the rule node \"" + NODE + "\" { policy = \"write\" }",
                    "lacks permission 'node:write'");
            assertThat(admin.listConsul(ListRequest.getDefaultInstance()).getMembersList()).isEmpty();
            assertThat(admin.listMembers(ListRequest.getDefaultInstance()).getMembersList())
                    .noneMatch(m -> m.getName().equals("dc1"));

            String token = consul.createToken("meshfed", leastPrivilege());
            ConsulState joined = admin.registerConsul(request(consul.address().toString()).setToken(token).build());
            assertThat(joined.getDatacenter()).isEqualTo("dc1");
            assertThat(joined.getGeneration()).isEqualTo(1);
            assertThat(joined.getChecksList()).containsExactly(
                    "agent " + consul.address() + " answers; datacenter dc1 (the agent's own)",
                    "token known to Consul (/v1/acl/token/self)",
                    "token may write node " + NODE + " (imports are published there)");
            assertThat(consul.tokensInUrl()).as("the token travels in a header, never in a URL").isZero();
            // Idempotent: the same join again changes nothing.
            assertThat(admin.registerConsul(request(consul.address().toString()).setToken(token).build())
                    .getGeneration()).isEqualTo(1);
            ConsulRecord stored = Records.get(federation.controller().store(), Kind.CONSUL, "dc1",
                    ConsulRecord.class).orElseThrow();
            assertThat(stored.sealedToken()).isNotEmpty().doesNotContain(token);
            assertThat(Files.readAllBytes(dir.resolve("state.db"))).asString(StandardCharsets.ISO_8859_1)
                    .doesNotContain(token);
            await().atMost(WAIT).until(() -> state(admin).getState(), "synced"::equals);
            assertThat(admin.status(ListRequest.getDefaultInstance()).getConsulMembersList())
                    .extracting(ConsulState::getName, ConsulState::getState).containsExactly(
                            org.assertj.core.groups.Tuple.tuple("dc1", "synced"));
            assertThat(admin.listMembers(ListRequest.getDefaultInstance()).getMembersList())
                    .filteredOn(m -> m.getName().equals("dc1")).singleElement()
                    .satisfies(m -> {
                        assertThat(m.getType()).isEqualTo("consul");
                        assertThat(m.getTrustDomain()).isEqualTo("dc1.acme.mesh");
                    });
        }
    }

    @Test
    void taggedServicesReachTheVmsImportsArePublishedBackAndAnOutageIsStaleThenWithdrawn() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(3));
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            consul.node("vm-1", "10.0.0.1", Map.of("region", "eu-west-1", "zone", "eu-west-1a"));
            consul.node("vm-2", "10.0.0.2", Map.of("region", "eu-west-1", "zone", "eu-west-1b"));
            consul.service("vm-1", "billing-1", "billing", List.of("meshfed-export", "meshfed-namespace=shop"),
                    Map.of(), "", 9000, "passing");
            consul.service("vm-2", "billing-2", "billing", List.of("meshfed-export", "meshfed-namespace=shop"),
                    Map.of(), "", 9000, "critical");
            consul.service("vm-1", "internal-1", "internal", List.of(), Map.of(), "", 7000, "passing");
            consul.enableAcls();
            String token = consul.createToken("meshfed", leastPrivilege());
            admin.registerConsul(request(consul.address().toString()).setToken(token).build());

            try (TestSubscriber vm = new TestSubscriber(federation.channel(federation.memberSvid("vms.acme.mesh",
                    "/ns/demo/vm/vm-1")))) {
                // The tagged service, one of two instances healthy; the untagged one stays inside Consul.
                ConfigSnapshot s = vm.awaitSnapshot(x -> remote(x, "billing", "consul-net").isPresent(), WAIT);
                assertThat(remote(s, "billing", "consul-net").orElseThrow().getHealthyEndpoints()).isEqualTo(1);
                assertThat(s.getServicesList()).noneMatch(x -> x.getName().equals("internal"));
                await().atMost(WAIT).untilAsserted(() -> assertThat(state(admin))
                        .extracting(ConsulState::getState, ConsulState::getExportedServices)
                        .containsExactly("synced", 1));

                // The check turns passing: both instances take traffic.
                consul.check("service:billing-2", "passing");
                vm.awaitSnapshot(x -> remote(x, "billing", "consul-net").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 2, WAIT);

                // hello.demo in the VM network, exported to the datacenter: registered in Consul at the gateway.
                federation.clusterEndpoints("vms", WorkloadReport.newBuilder().addWorkloads(WorkloadInstance.newBuilder()
                        .setService("hello").setNamespace("demo").setAddress("10.9.0.1").setPort(8080)
                        .setHealthy(true)).build());
                admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("dc1")
                        .build());
                ConsulTestServer.Registered published = await().atMost(WAIT).until(() ->
                        consul.registered(NODE, "meshfed-import-hello-demo-8080"), Optional::isPresent).get();
                assertThat(published.name()).isEqualTo("hello-demo");
                assertThat(published.address()).isEqualTo("127.0.40.1");
                assertThat(published.port()).isBetween(20000, 32767);
                assertThat(published.tags()).contains("meshfed-import");
                assertThat(published.meta()).containsEntry("meshfed-service", "hello.demo");
                await().atMost(WAIT).until(() -> state(admin).getImportedServices() == 1);
                // What meshfed published is not read back as the datacenter's own service.
                Thread.sleep(1500);
                assertThat(vm.latest().getServicesList()).noneMatch(x -> x.getName().equals("hello-demo"));

                // Unexport: the registration leaves Consul.
                admin.unexport(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                        .addToMembers("dc1").build());
                await().atMost(WAIT).until(() -> consul.registered(NODE, "meshfed-import-hello-demo-8080")
                        .isEmpty());

                String metrics = Http.get(federation, "/metrics").body();
                assertThat(metrics).contains("meshfed_member_connected{member=\"dc1\",type=\"consul\"} 1.0")
                        .containsPattern("meshfed_member_events_total\\{event=\"resync\",member=\"dc1\","
                                + "type=\"consul\"} [1-9]");

                // Agent outage: stale (services kept) for the grace period of 3 s, then withdrawn.
                consul.stop();
                await().atMost(WAIT).until(() -> state(admin).getState(), "stale"::equals);
                assertThat(state(admin).getLastError()).contains("agent unreachable");
                assertThat(remote(vm.latest(), "billing", "consul-net").orElseThrow().getHealthyEndpoints())
                        .isEqualTo(2);
                await().atMost(WAIT).until(() -> state(admin).getState(), "withdrawn"::equals);
                vm.awaitSnapshot(x -> remote(x, "billing", "consul-net").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 0, WAIT);
                assertThat(Http.get(federation, "/metrics").body())
                        .contains("meshfed_member_connected{member=\"dc1\",type=\"consul\"} 0.0");

                // The agent comes back having lost its index: synced again, and later changes are seen.
                consul.restart();
                await().atMost(WAIT).until(() -> state(admin).getState(), "synced"::equals);
                vm.awaitSnapshot(x -> remote(x, "billing", "consul-net").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 2, WAIT);
                consul.check("service:billing-1", "critical");
                vm.awaitSnapshot(x -> remote(x, "billing", "consul-net").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 1, WAIT);

                // Exported again, then the member leaves: what meshfed registered in Consul goes with it.
                admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("dc1")
                        .build());
                await().atMost(WAIT).until(() -> consul.registered(NODE, "meshfed-import-hello-demo-8080")
                        .isPresent());
                assertThat(admin.unregisterConsul(UnregisterConsulRequest.newBuilder().setName("dc1").build())
                        .getState()).isEqualTo("removed");
                await().atMost(WAIT).until(() -> consul.servicesOn(NODE).isEmpty());
                vm.awaitSnapshot(x -> remote(x, "billing", "consul-net").isEmpty(), WAIT);
                assertThat(admin.listConsul(ListRequest.getDefaultInstance()).getMembersList()).isEmpty();
            }
        }
    }

    private static ConsulAcl.Rule[] leastPrivilege() {
        return new ConsulAcl.Rule[] {ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ),
            ConsulAcl.Rule.prefix("node", "", ConsulAcl.Access.READ),
            ConsulAcl.Rule.exact("node", NODE, ConsulAcl.Access.WRITE),
            ConsulAcl.Rule.exact("service", "hello-demo", ConsulAcl.Access.WRITE)};
    }

    private static RegisterConsulRequest.Builder request(String address) {
        return RegisterConsulRequest.newBuilder().setName("dc1").setNetwork("consul-net").setAddress(address)
                .setGatewayAddress(GATEWAY);
    }

    private static ConsulState state(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.listConsul(ListRequest.getDefaultInstance()).getMembersList().stream()
                .filter(c -> c.getName().equals("dc1")).findFirst().orElseThrow();
    }

    private static void assertRefused(AdminServiceGrpc.AdminServiceBlockingStub admin,
            RegisterConsulRequest.Builder request, Status.Code code, String... says) {
        assertThatThrownBy(() -> admin.registerConsul(request.build())).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    for (String s : says) {
                        assertThat(e.getStatus().getDescription()).contains(s);
                    }
                });
    }

}
