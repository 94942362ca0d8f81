package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.CatalogService;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.JoinRequest;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an agent reports is untrusted: the holder of one agent SVID can register only the services its join token
 * scoped, only behind its own inbound, within its member's port quota, and gains no right to call anything by
 * providing an instance. Each refusal is checked for its status, its reason and the counter that shows it, next to
 * the legitimate report that still works.
 */
class ReportedWorkloadsAuthorityTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static void setUpEastAndWest(TestFederation federation) throws Exception {
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                .build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress("127.0.2.1:15443")
                .build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
    }

    /** Joins an agent of {@code member} with a token of the given scope, as {@code meshfed-agent join} does. */
    private static X509Svid joinAgent(TestFederation federation, String member, String vm, String namespace,
            String... services) throws Exception {
        String token = federation.agentToken(member, namespace, services);
        return federation.join(token, Role.ROLE_AGENT, member, vm, SpiffeId.parse("spiffe://" + member
                + ".acme.mesh/ns/" + namespace + "/vm/" + vm)).svid();
    }

    private static WorkloadInstance workload(String service, String address, int port) {
        return WorkloadInstance.newBuilder().setService(service).setNamespace("demo").setAddress(address)
                .setPort(port).setHealthy(true).setInbound(address + ":15006").build();
    }

    private static void report(TestFederation federation, X509Svid agent, WorkloadInstance... workloads)
            throws Exception {
        RegistrationServiceGrpc.newBlockingStub(federation.channel(agent)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .reportWorkloads(WorkloadReport.newBuilder().addAllWorkloads(List.of(workloads)).build());
    }

    private static Status refusal(ThrowingRunnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the call was not refused");
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static Optional<CatalogService> catalog(TestFederation federation, String name) throws Exception {
        return federation.admin().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                .filter(s -> s.getName().equals(name)).findFirst();
    }

    private static List<String> endpointsOf(TestFederation federation, String name) throws Exception {
        return catalog(federation, name).map(s -> s.getNetworksList().stream().flatMap(n -> n.getEndpointsList()
                .stream()).map(e -> e.getMember() + "/" + e.getAddress()).toList()).orElse(List.of());
    }

    @Test
    void aServiceOutsideTheTokensScopeIsRefusedByNameAndTheRestOfTheReportIsApplied() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            X509Svid westAgent = joinAgent(federation, "west", "vm-1", "demo", "echo.demo");

            // Attack 2: west's agent reports hello.demo, east's service, at its own host.
            Status refused = refusal(() -> report(federation, westAgent, workload("echo", "10.0.2.2", 8080),
                    workload("hello", "10.0.2.2", 8080)));

            assertThat(refused.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(refused.getDescription()).contains("1 of 2 workloads refused")
                    .contains("hello.demo is outside the scope of spiffe://west.acme.mesh/ns/demo/vm/vm-1 (echo.demo)");
            assertThat(endpointsOf(federation, "echo")).containsExactly("west/10.0.2.2");
            assertThat(catalog(federation, "hello")).isEmpty();
            assertThat(Http.get(federation, "/metrics").body())
                    .contains("meshfed_registration_refusals_total{reason=\"scope\"} 1.0");
        }
    }

    @Test
    void aNamespaceScopeAllowsAnyServiceOfThatNamespaceOnly() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            X509Svid agent = joinAgent(federation, "east", "vm-1", "demo");

            report(federation, agent, workload("hello", "10.0.1.2", 8080), workload("api", "10.0.1.2", 9090));
            Status refused = refusal(() -> report(federation, agent, WorkloadInstance.newBuilder()
                    .setService("db").setNamespace("prod").setAddress("10.0.1.2").setPort(5432).setHealthy(true)
                    .setInbound("10.0.1.2:15006").build()));

            assertThat(refused.getDescription()).contains("db.prod is outside the scope")
                    .contains("any service of namespace demo");
            assertThat(catalog(federation, "db")).isEmpty();
        }
    }

    @Test
    void anAgentsWorkloadsNeedItsOwnInbound() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            X509Svid first = joinAgent(federation, "east", "vm-1", "demo", "hello.demo", "mgmt.demo");
            X509Svid second = joinAgent(federation, "east", "vm-2", "demo", "hello.demo");
            report(federation, first, workload("hello", "10.0.1.2", 8080));

            // Attack 3: a workload at the edge gateway's loopback management port, with no inbound, would have
            // become a plain upstream that the gateway dials.
            Status noInbound = refusal(() -> report(federation, first, workload("hello", "10.0.1.2", 8080),
                    workload("mgmt", "127.0.0.1", 15022).toBuilder().clearInbound().build()));
            assertThat(noInbound.getDescription()).contains("mgmt.demo names no inbound");
            // Another agent's inbound: traffic would reach vm-1 with vm-2's pinned identity, or the reverse.
            Status taken = refusal(() -> report(federation, second, workload("hello", "10.0.1.2", 8080)));
            assertThat(taken.getDescription()).contains("inbound 10.0.1.2:15006 is the inbound of "
                    + "spiffe://east.acme.mesh/ns/demo/vm/vm-1");
            // Another spelling of the same inbound is the same inbound.
            Status respelled = refusal(() -> report(federation, second, workload("hello", "10.0.1.2", 8080)
                    .toBuilder().setInbound(" 10.0.1.2:15006").build()));
            assertThat(respelled.getDescription()).contains("inbound 10.0.1.2:15006 is the inbound of");

            assertThat(catalog(federation, "mgmt")).isEmpty();
            assertThat(endpointsOf(federation, "hello")).containsExactly("east/10.0.1.2");
            String metrics = Http.get(federation, "/metrics").body();
            assertThat(metrics).contains("meshfed_registration_refusals_total{reason=\"no_inbound\"} 1.0")
                    .contains("meshfed_registration_refusals_total{reason=\"inbound_taken\"} 2.0");
        }
    }

    @Test
    void providingAnInstanceGrantsNoRightToCallTheService() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            X509Svid westAgent = joinAgent(federation, "west", "vm-1", "demo", "echo.demo");
            report(federation, westAgent, workload("echo", "10.0.2.2", 8080));
            // Attack 1: east's agent may register echo.demo (its token says so) but echo.demo is not exported to
            // east. Its (unhealthy) instance must not put east's trust domain on echo's allowed callers.
            X509Svid eastAgent = joinAgent(federation, "east", "vm-1", "demo", "echo.demo");
            report(federation, eastAgent, workload("echo", "10.0.1.2", 8080).toBuilder().setHealthy(false).build());
            federation.admin().export(ExportRequest.newBuilder().setService("echo").setNamespace("demo")
                    .addToMembers("west").build());

            try (TestSubscriber westGateway = new TestSubscriber(federation.channel(
                    federation.memberSvid("west.acme.mesh", "/meshfed/gateway/gw")))) {
                ConfigSnapshot s = westGateway.awaitSnapshot(x -> x.getAuthorizationList().stream()
                        .anyMatch(p -> p.getService().equals("echo")), WAIT);
                AuthorizationPolicy echo = s.getAuthorizationList().stream()
                        .filter(p -> p.getService().equals("echo")).findFirst().orElseThrow();
                assertThat(echo.getAllowedTrustDomainsList()).containsExactly("west.acme.mesh");

                // The admin's decision is what grants it.
                federation.admin().export(ExportRequest.newBuilder().setService("echo").setNamespace("demo")
                        .addToMembers("east").build());
                westGateway.awaitSnapshot(x -> x.getAuthorizationList().stream().anyMatch(p -> p.getService()
                        .equals("echo") && p.getAllowedTrustDomainsList().contains("east.acme.mesh")), WAIT);
            }
        }
    }

    @Test
    void aMemberOverItsPortQuotaIsRefusedForThoseServicesAndPortsAreFreedWhenWithdrawn() throws Exception {
        try (TestFederation federation = TestFederation.withMemberPortQuota(dir, 3)) {
            setUpEastAndWest(federation);
            X509Svid agent = joinAgent(federation, "east", "vm-1", "demo");
            X509Svid westAgent = joinAgent(federation, "west", "vm-1", "demo", "echo.demo");
            WorkloadInstance[] junk = IntStream.range(0, 5).mapToObj(i -> workload("junk-" + i, "10.0.1.2", 8080))
                    .toArray(WorkloadInstance[]::new);
            for (String service : List.of("junk-0", "junk-1", "junk-2", "junk-3", "junk-4", "echo")) {
                federation.admin().export(ExportRequest.newBuilder().setService(service).setNamespace("demo")
                        .setToAll(true).build()); // imported by the other network, so they would take its ports
            }

            // Attack 7: one agent reports many service ports to use up the range.
            Status refused = refusal(() -> report(federation, agent, junk));

            assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(refused.getDescription()).contains("2 of 5 workloads refused")
                    .contains("junk-3.demo port 8080: member east already holds its quota of 3 service ports")
                    .contains("junk-4.demo");
            assertThat(Records.list(federation.controller().store(), Kind.PORT, PortAllocationRecord.class))
                    .hasSize(3).allSatisfy(p -> assertThat(p.network()).isEqualTo("west"));
            // Another member is not affected.
            report(federation, westAgent, workload("echo", "10.0.2.2", 8080));

            // Withdrawn: the ports go back, and the member may use its quota again.
            report(federation, agent);
            assertThat(Records.list(federation.controller().store(), Kind.PORT, PortAllocationRecord.class))
                    .extracting(PortAllocationRecord::network, PortAllocationRecord::service)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("east", "echo"));
            report(federation, agent, junk[3], junk[4]);
            assertThat(Http.get(federation, "/metrics").body())
                    .contains("meshfed_registration_refusals_total{reason=\"port_quota\"} 2.0");
        }
    }

    @Test
    void aReportedWeightIsBoundedAndEachEndpointCarriesItsOwn() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            X509Svid agent = joinAgent(federation, "east", "vm-1", "demo", "echo.demo");
            for (int bad : new int[] {1001, -1}) {
                Status refused = refusal(() -> report(federation, agent, workload("echo", "10.0.1.2", 8080)
                        .toBuilder().setWeight(bad).build()));
                assertThat(refused.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(refused.getDescription()).contains("echo.demo: weight " + bad + " is outside 1-1000");
            }
            assertThat(endpointsOf(federation, "echo")).as("a refused report writes nothing").isEmpty();

            report(federation, agent, workload("echo", "10.0.1.2", 8080).toBuilder().setWeight(7).build(),
                    workload("echo", "10.0.1.3", 8080)); // 0: weight 1
            try (TestSubscriber eastGateway = new TestSubscriber(federation.channel(
                    federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw")))) {
                ConfigSnapshot s = eastGateway.awaitSnapshot(x -> x.getServicesCount() > 0, WAIT);
                assertThat(s.getServices(0).getNetworks(0).getEndpointsList())
                        .extracting(e -> e.getAddress() + "=" + e.getWeight())
                        .containsExactlyInAnyOrder("10.0.1.2=7", "10.0.1.3=1");
            }
        }
    }

    @Test
    void aReportLargerThanTheLimitIsRefusedWhole() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            X509Svid agent = joinAgent(federation, "east", "vm-1", "demo");
            WorkloadInstance[] many = IntStream.range(0, 257).mapToObj(i -> workload("s" + i, "10.0.1.2", 8080))
                    .toArray(WorkloadInstance[]::new);

            Status refused = refusal(() -> report(federation, agent, many));

            assertThat(refused.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(refused.getDescription()).contains("at most 256 workloads, not 257");
            assertThat(federation.admin().listServices(ListRequest.getDefaultInstance()).getServicesCount())
                    .isZero();
        }
    }

    @Test
    void aReporterThatNeverOpensAConfigStreamLosesItsWorkloadsAfterTheGracePeriod() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(1))) {
            setUpEastAndWest(federation);
            X509Svid agent = joinAgent(federation, "east", "vm-1", "demo", "hello.demo");

            // Attack 11: report, never subscribe.
            report(federation, agent, workload("hello", "10.0.1.2", 8080));

            await().atMost(WAIT).until(() -> catalog(federation, "hello").map(s -> s.getNetworksList().stream()
                    .flatMap(n -> n.getEndpointsList().stream()).noneMatch(e -> e.getHealthy())).orElse(false));
        }
    }

    @Test
    void anAgentsNamespaceIsADnsLabelBoundByItsToken() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            setUpEastAndWest(federation);
            String token = federation.agentToken("east", "demo", "hello.demo");

            // Attack 9: a namespace with slashes would have made spiffe://east.../ns/a/vm/b/vm/vmx.
            Status slashes = refusal(() -> joinWithNamespace(federation, token, "a/vm/b"));
            assertThat(slashes.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(slashes.getDescription()).contains("namespace 'a/vm/b' must be a DNS label");
            Status other = refusal(() -> joinWithNamespace(federation, token, "prod"));
            assertThat(other.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(other.getDescription()).contains("wrong_namespace: the join token is for namespace demo, not"
                    + " prod");

            // The refusals did not use the token; the namespace it binds works, named or not.
            assertThat(joinWithNamespace(federation, token, "")).isEqualTo("spiffe://east.acme.mesh/ns/demo/vm/vmx");
        }
    }

    private static String joinWithNamespace(TestFederation federation, String token, String namespace)
            throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        String ns = namespace.isEmpty() || namespace.contains("/") ? "demo" : namespace;
        SpiffeId csrId = SpiffeId.parse("spiffe://east.acme.mesh/ns/" + ns + "/vm/vmx");
        ManagedChannel channel = federation.joinChannel(TestFederation.pinOf(token));
        return JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).join(JoinRequest
                .newBuilder().setToken(token).setRole(Role.ROLE_AGENT).setMember("east").setName("vmx")
                .setNamespace(namespace).setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, csrId)))
                .build()).getSpiffeId();
    }
}
