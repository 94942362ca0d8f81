package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import io.meshfed.controller.catalog.MemberExports;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.connector.consul.testing.ConsulAcl;
import io.meshfed.controller.connector.consul.testing.ConsulTestServer;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import static io.meshfed.controller.testing.TestSubscriber.remote;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What another member can do to a Consul member's imports and exports (nothing more than its own services), and
 * that admin decisions and outages take effect, with the real controller and the Consul test server.
 */
class ConsulMemberAttacksTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String GATEWAY = "127.0.40.1:15443";
    private static final String NODE = "meshfed-gateway-consul-net";

    @TempDir
    Path dir;

    /**
     * One import the token may not write must not stop every other import: ImportPublisher.apply registers in ID
     * order and throws at the first 403, so nothing sorted after it is ever published (and ended imports are never
     * deregistered). The least-privilege policy grants write per published name, so any member that exports a
     * service to all (a ServiceExport, simulated here the way ClusterConnector writes it) with a name that sorts
     * early cuts a Consul datacenter off from all its imports, without any admin action.
     */
    @Test
    void anImportTheTokenMayNotWriteDoesNotBlockTheOthers() throws Exception {
        try (TestFederation federation = TestFederation.start(dir);
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            vmNetwork(admin);
            consul.enableAcls();
            String token = consul.createToken("meshfed", ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ),
                    ConsulAcl.Rule.prefix("node", "", ConsulAcl.Access.READ),
                    ConsulAcl.Rule.exact("node", NODE, ConsulAcl.Access.WRITE),
                    ConsulAcl.Rule.exact("service", "hello-demo", ConsulAcl.Access.WRITE));
            admin.registerConsul(request(consul).setToken(token).build());
            await().atMost(WAIT).until(() -> state(admin).getState(), "synced"::equals);

            offerAsMember(federation, "vms", List.of("aaa", "hello"), "demo");

            await().atMost(WAIT).until(() -> consul.registered(NODE, "meshfed-import-hello-demo-8080"),
                    Optional::isPresent);
        }
    }

    /**
     * A federated service whose Consul name is a native service's name must neither hide that native service from
     * the federation nor be mixed into it: the watch skips a whole service name when any instance carries the
     * import tag (ConsulCatalogWatch.select), and the publisher registers under the name regardless. Another member
     * exporting {@code web.prod} thus withdraws the datacenter's own exported {@code web-prod} from the federation
     * and joins the datacenter's clients of {@code web-prod} to its own listener.
     */
    @Test
    void anImportNamedLikeANativeServiceNeitherHidesItNorJoinsIt() throws Exception {
        try (TestFederation federation = TestFederation.start(dir);
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            vmNetwork(admin);
            consul.node("vm-1", "10.0.0.1", Map.of());
            consul.service("vm-1", "web-prod-1", "web-prod", List.of("meshfed-export"), Map.of(), "", 9000,
                    "passing");
            admin.registerConsul(request(consul).build());
            try (TestSubscriber vm = new TestSubscriber(federation.channel(federation.memberSvid("vms.acme.mesh",
                    "/ns/demo/vm/vm-1")))) {
                vm.awaitSnapshot(x -> remote(x, "web-prod", "consul-net").isPresent(), WAIT);

                offerAsMember(federation, "vms", List.of("web"), "prod");
                await().atMost(WAIT).until(() -> state(admin).getLastError(), e -> e.contains(
                        "the datacenter has its own service named 'web-prod' on other nodes; web.prod is not"
                                + " published under it"));

                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(remote(vm.latest(), "web-prod", "consul-net"))
                        .as("the datacenter's own web-prod.default is still in the federation").isPresent();
                soft.assertThat(consul.servicesOn(NODE).values()).as("nothing published under a native name")
                        .noneMatch(r -> r.name().equals("web-prod"));
                soft.assertAll();
            }
        }
    }

    /**
     * An admin's export policy naming a Consul service that carries no tag must take effect: the watch reads the
     * names policies give only in select(), and ConsulCatalogWatch.refresh() is never called from production
     * code, so the service is imported only once the datacenter's catalog happens to change (never, in a quiet one).
     */
    @Test
    void anAdminExportOfAnUntaggedServiceTakesEffectWithoutACatalogChange() throws Exception {
        try (TestFederation federation = TestFederation.start(dir);
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            vmNetwork(admin);
            consul.node("vm-1", "10.0.0.1", Map.of());
            consul.service("vm-1", "ledger-1", "ledger", List.of(), Map.of(), "", 7000, "passing");
            admin.registerConsul(request(consul).build());
            await().atMost(WAIT).until(() -> state(admin).getState(), "synced"::equals);
            try (TestSubscriber vm = new TestSubscriber(federation.channel(federation.memberSvid("vms.acme.mesh",
                    "/ns/demo/vm/vm-1")))) {
                admin.export(ExportRequest.newBuilder().setService("ledger").setNamespace("default")
                        .addToMembers("vms").build());
                vm.awaitSnapshot(x -> remote(x, "ledger", "consul-net").isPresent(), WAIT);
            }
        }
    }

    /**
     * After a controller restart with the agent down, the datacenter's instances must go stale and then be
     * withdrawn, as after an outage seen while running: ConsulConnector.becameUnreachable acts only from SYNCED, and
     * a new connector starts CONNECTING, so the stored set stays healthy for as long as the agent is away (the
     * Kubernetes connector counts a stored set as "had synced"). The same holds for a connector replaced by a new
     * generation whose agent does not answer.
     */
    @Test
    void afterARestartWithTheAgentDownItsInstancesAreWithdrawn() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(3));
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            vmNetwork(admin);
            consul.node("vm-1", "10.0.0.1", Map.of());
            consul.service("vm-1", "billing-1", "billing", List.of("meshfed-export"), Map.of(), "", 9000, "passing");
            admin.registerConsul(request(consul).build());
            await().atMost(WAIT).until(() -> healthy(federation) == 1);

            consul.stop();
            federation.restart();
            await().atMost(WAIT).until(() -> healthy(federation) == 0);
        }
    }

    /**
     * What the controller published must come back when it goes from Consul (a Consul restore, an operator's
     * cleanup, anti-entropy): ImportPublisher keeps its own idea of what is registered and publish() returns early
     * when the desired set did not change, so a lost registration stays lost until the imports change.
     */
    @Test
    void aPublishedImportLostInConsulIsRegisteredAgain() throws Exception {
        try (TestFederation federation = TestFederation.start(dir);
                ConsulTestServer consul = ConsulTestServer.start("dc1")) {
            var admin = federation.admin();
            vmNetwork(admin);
            admin.registerConsul(request(consul).build());
            offerAsMember(federation, "vms", List.of("hello"), "demo");
            await().atMost(WAIT).until(() -> consul.registered(NODE, "meshfed-import-hello-demo-8080"),
                    Optional::isPresent);
            consul.deregister(NODE, "meshfed-import-hello-demo-8080");
            await().atMost(WAIT).until(() -> consul.registered(NODE, "meshfed-import-hello-demo-8080"),
                    Optional::isPresent);
        }
    }

    private static long healthy(TestFederation federation) {
        return Records.get(federation.controller().store(), Kind.WORKLOADS, "consul/dc1", WorkloadSetRecord.class)
                .map(s -> s.workloads().stream().filter(WorkloadSetRecord.Workload::healthy).count()).orElse(-1L);
    }

    private static void vmNetwork(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                .build());
        admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
    }

    /** What a member's ServiceExports make of its services: its own set and an export to all it offers itself. */
    private static void offerAsMember(TestFederation federation, String member, List<String> services,
            String namespace) {
        federation.controller().store().transact(tx -> {
            MemberRecord m = Records.get(tx, Kind.MEMBER, member, MemberRecord.class).orElseThrow();
            List<WorkloadSetRecord.Workload> workloads = services.stream().map(s -> new WorkloadSetRecord.Workload(s,
                    namespace, "10.9.0.1", 8080, true, "", null)).toList();
            WorkloadSetRecord set = new WorkloadSetRecord(ClusterRecord.workloadSetKey(member), member, m.network(),
                    workloads);
            new MemberExports(PortAllocations.defaults()).write(tx, set, services.stream()
                    .map(s -> new MemberExports.Offer(s, namespace, List.of(8080))).toList());
            return null;
        });
    }

    private static RegisterConsulRequest.Builder request(ConsulTestServer consul) {
        return RegisterConsulRequest.newBuilder().setName("dc1").setNetwork("consul-net")
                .setAddress(consul.address().toString()).setGatewayAddress(GATEWAY);
    }

    private static ConsulState state(AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.listConsul(ListRequest.getDefaultInstance()).getMembersList().stream()
                .filter(c -> c.getName().equals("dc1")).findFirst().orElseThrow();
    }

}
