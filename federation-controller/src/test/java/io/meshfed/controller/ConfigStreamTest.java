package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Config streams over real gRPC and mTLS: east and west in their own networks, each with a gateway subscriber and an
 * agent that reports workloads.
 */
class ConfigStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private TestFederation federation;
    private ManagedChannel eastGateway;
    private ManagedChannel westGateway;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443").build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress("127.0.2.1:15443").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
        eastGateway = federation.channel(federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw"));
        westGateway = federation.channel(federation.memberSvid("west.acme.mesh", "/meshfed/gateway/gw"));
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private void report(String member, String vm, WorkloadInstance... workloads) throws Exception {
        ManagedChannel agent = federation.channel(federation.memberSvid(member + ".acme.mesh", "/ns/demo/vm/" + vm));
        RegistrationServiceGrpc.newBlockingStub(agent).reportWorkloads(
                WorkloadReport.newBuilder().addAllWorkloads(List.of(workloads)).build());
    }

    private static WorkloadInstance hello(String address, boolean healthy) {
        return WorkloadInstance.newBuilder().setService("hello").setNamespace("demo").setAddress(address)
                .setPort(8080).setHealthy(healthy).setInbound(address + ":15006").build();
    }

    private static Optional<Service> service(ConfigSnapshot s, String name) {
        return s.getServicesList().stream().filter(x -> x.getName().equals(name)).findFirst();
    }

    @Test
    void aMemberSeesOnlyWhatIsExportedToItAndRemoteEndpointsBecomeGatewayRoutes() throws Exception {
        report("east", "vm-1", hello("10.0.1.5", true), hello("10.0.1.6", true));
        try (TestSubscriber east = new TestSubscriber(eastGateway); TestSubscriber west = new TestSubscriber(westGateway)) {
            ConfigSnapshot eastView = east.awaitSnapshot(s -> service(s, "hello").isPresent(), WAIT);
            NetworkEndpoints local = service(eastView, "hello").orElseThrow().getNetworks(0);
            assertThat(local.getLocal()).isTrue();
            assertThat(local.getEndpointsList()).extracting(e -> e.getAddress() + ":" + e.getPort())
                    .containsExactly("10.0.1.5:8080", "10.0.1.6:8080");
            assertThat(eastView.getSubscriber()).isEqualTo("spiffe://east.acme.mesh/meshfed/gateway/gw");
            assertThat(eastView.getMember()).isEqualTo("east");
            assertThat(eastView.getBundles().getBundlesList()).hasSize(3);
            // Default deny: west does not see hello.demo until it is exported.
            ConfigSnapshot westView = west.awaitSnapshot(s -> true, WAIT);
            assertThat(service(westView, "hello")).isEmpty();

            federation.admin().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                    .addToMembers("west").build());
            ConfigSnapshot exported = west.awaitSnapshot(s -> service(s, "hello").isPresent(), WAIT);
            NetworkEndpoints remote = service(exported, "hello").orElseThrow().getNetworks(0);
            assertThat(remote.getLocal()).isFalse();
            assertThat(remote.getNetwork()).isEqualTo("east");
            assertThat(remote.getEndpointsList()).as("remote endpoints are never listed").isEmpty();
            assertThat(remote.getHealthyEndpoints()).isEqualTo(2);
            assertThat(remote.getRoutesList()).singleElement().satisfies(r -> {
                assertThat(r.getGatewayAddress()).isEqualTo("127.0.1.1:15443");
                assertThat(r.getSni()).isEqualTo("8080.hello.demo.svc.meshfed");
            });
            assertThat(exported.getOutboundList()).singleElement().satisfies(o -> {
                assertThat(o.getService()).isEqualTo("hello");
                assertThat(o.getListenPort()).isBetween(20000, 32767);
            });
            // The east gateway learns that west may now call hello.demo.
            ConfigSnapshot authorized = east.awaitSnapshot(s -> s.getAuthorizationList().stream().anyMatch(
                    a -> a.getService().equals("hello") && a.getAllowedTrustDomainsList().contains("west.acme.mesh")),
                    WAIT);
            assertThat(authorized.getAuthorizationList().get(0).getAllowedTrustDomainsList())
                    .containsExactly("east.acme.mesh", "west.acme.mesh");

            federation.admin().unexport(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                    .addToMembers("west").build());
            west.awaitSnapshot(s -> service(s, "hello").isEmpty(), WAIT);
        }
    }

    @Test
    void onlyHealthyEndpointsAreRoutedAndANetworkWithoutOneIsLeftOut() throws Exception {
        federation.admin().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").setToAll(true)
                .build());
        report("east", "vm-1", hello("10.0.1.5", true), hello("10.0.1.6", false));
        try (TestSubscriber west = new TestSubscriber(westGateway); TestSubscriber east = new TestSubscriber(eastGateway)) {
            ConfigSnapshot s = west.awaitSnapshot(x -> service(x, "hello").isPresent(), WAIT);
            assertThat(service(s, "hello").orElseThrow().getNetworks(0).getHealthyEndpoints()).isEqualTo(1);
            ConfigSnapshot e = east.awaitSnapshot(x -> service(x, "hello").isPresent(), WAIT);
            assertThat(service(e, "hello").orElseThrow().getNetworks(0).getEndpointsList())
                    .extracting(x -> x.getAddress()).containsExactly("10.0.1.5");

            report("east", "vm-1", hello("10.0.1.5", false), hello("10.0.1.6", false));
            west.awaitSnapshot(x -> service(x, "hello").isEmpty(), WAIT);
            // The same service in west's own network then serves west locally.
            report("west", "vm-9", hello("10.0.2.7", true));
            ConfigSnapshot local = west.awaitSnapshot(x -> service(x, "hello").isPresent(), WAIT);
            assertThat(service(local, "hello").orElseThrow().getNetworksList()).singleElement()
                    .satisfies(n -> assertThat(n.getLocal()).isTrue());
        }
    }

    @Test
    void acksAreTrackedNacksKeepThePreviousVersionAndStatusShowsBoth() throws Exception {
        try (TestSubscriber east = new TestSubscriber(eastGateway, "", s -> service(s, "hello").isPresent())) {
            ConfigSnapshot first = east.awaitSnapshot(s -> true, WAIT);
            await().atMost(WAIT).until(() -> statusOf("east").getAckedVersion().equals(first.getVersion()));
            SubscriberStatus acked = statusOf("east");
            assertThat(acked.getLagMs()).isZero();
            assertThat(acked.getLastError()).isEmpty();

            report("east", "vm-1", hello("10.0.1.5", true)); // the test subscriber NACKs snapshots with hello
            await().atMost(WAIT).until(() -> !statusOf("east").getLastError().isEmpty());
            SubscriberStatus nacked = statusOf("east");
            assertThat(nacked.getLastError()).isEqualTo("test rejects this version");
            assertThat(nacked.getAckedVersion()).as("keeps the previous version").isEqualTo(first.getVersion());
            assertThat(nacked.getSentVersion()).isNotEqualTo(first.getVersion());
            assertThat(east.latest().getVersion()).isEqualTo(first.getVersion());
        }
    }

    private SubscriberStatus statusOf(String member) throws Exception {
        return federation.admin().status(ListRequest.getDefaultInstance()).getSubscribersList().stream()
                .filter(s -> s.getMember().equals(member)).findFirst().orElseThrow();
    }

    @Test
    void reconnectingWithTheCurrentVersionGetsNothingUntilSomethingChanges() throws Exception {
        String version;
        try (TestSubscriber first = new TestSubscriber(eastGateway)) {
            version = first.awaitSnapshot(s -> true, WAIT).getVersion();
        }
        try (TestSubscriber again = new TestSubscriber(eastGateway, version, s -> false)) {
            assertThat(again.next(Duration.ofMillis(800))).as("nothing new to send").isNull();
            report("east", "vm-1", hello("10.0.1.5", true));
            ConfigSnapshot changed = again.next(WAIT);
            assertThat(changed).isNotNull();
            assertThat(changed.getVersion()).isNotEqualTo(version);
        }
        // Versions are content hashes: a second subscriber of the same member gets the same version.
        try (TestSubscriber other = new TestSubscriber(federation.channel(
                federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw-2")))) {
            ConfigSnapshot s = other.awaitSnapshot(x -> service(x, "hello").isPresent(), WAIT);
            assertThat(s.getSubscriber()).endsWith("/gw-2");
        }
    }

    @Test
    void streamsAndReportsNeedAMemberIdentity() throws Exception {
        ManagedChannel admin = federation.channel(federation.adminSvid());
        try (TestSubscriber stranger = new TestSubscriber(admin)) {
            await().atMost(WAIT).until(() -> stranger.error() != null);
            assertThat(Status.fromThrowable(stranger.error()).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(Status.fromThrowable(stranger.error()).getDescription()).contains("belongs to no member");
        }
        assertThatThrownBy(() -> RegistrationServiceGrpc.newBlockingStub(eastGateway).reportWorkloads(
                WorkloadReport.newBuilder().addWorkloads(hello("10.0.0.1", true)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("is not a VM agent identity"));
        assertThatThrownBy(() -> report("east", "vm-1", WorkloadInstance.newBuilder().setService("Hello!")
                .setAddress("10.0.0.1").setPort(80).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("must be DNS labels"));
        assertThatThrownBy(() -> report("east", "vm-1", WorkloadInstance.newBuilder().setService("hello")
                .setAddress("10.0.0.1").setPort(70000).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("outside 1-65535"));
        assertThatThrownBy(() -> report("east", "vm-1", hello("10.0.0.1", true).toBuilder().setInbound("10.0.0.1")
                .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("inbound '10.0.0.1' must be HOST:PORT"));
    }

    @Test
    void anEndpointBehindAnAgentCarriesTheAgentsInboundAddressAndIdentity() throws Exception {
        report("east", "vm-1", hello("10.0.1.5", true).toBuilder().setInbound("10.0.1.5:15006").build());
        // Issue 12: a workload with no inbound would be dialled in plain text at whatever address was reported, so it
        // is refused (before, it became a plain endpoint).
        assertThatThrownBy(() -> report("east", "vm-2", hello("10.0.1.6", true).toBuilder().clearInbound().build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("hello.demo names no inbound");
                });
        try (TestSubscriber east = new TestSubscriber(eastGateway)) {
            await().atMost(WAIT).until(() -> east.latest() != null && service(east.latest(), "hello").isPresent());
            var endpoints = service(east.latest(), "hello").orElseThrow().getNetworks(0).getEndpointsList();
            assertThat(endpoints).singleElement().satisfies(e -> {
                assertThat(e.getAddress()).isEqualTo("10.0.1.5");
                assertThat(e.getInbound()).isEqualTo("10.0.1.5:15006");
                assertThat(e.getIdentity()).isEqualTo("spiffe://east.acme.mesh/ns/demo/vm/vm-1");
            });
        }
    }

    @Test
    void aGatewaysReadinessReportReplacesTheAddressItJoinedWith() throws Exception {
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("south").build()); // no address configured
        admin.addMember(AddMemberRequest.newBuilder().setName("south").setType("vm").setNetwork("south").build());
        var joined = federation.join(federation.token("south", io.meshfed.api.v1.Role.ROLE_GATEWAY),
                io.meshfed.api.v1.Role.ROLE_GATEWAY, "south", "gw",
                io.meshfed.trust.SpiffeId.parse("spiffe://south.acme.mesh/meshfed/gateway/gw"));
        ManagedChannel channel = federation.channel(joined.svid());
        var registration = RegistrationServiceGrpc.newBlockingStub(channel);
        try (TestSubscriber east = new TestSubscriber(eastGateway)) {
            for (String address : List.of("127.0.3.1:31443", "127.0.3.2:32443")) {
                registration.reportReadiness(io.meshfed.api.v1.ReadinessReport.newBuilder().setReady(true)
                        .addAddresses(address).build());
                await().atMost(WAIT).until(() -> east.latest() != null && east.latest().getGatewaysList().stream()
                        .anyMatch(g -> g.getNetwork().equals("south") && g.getAddress().equals(address)));
            }
        }
        assertThatThrownBy(() -> registration.reportReadiness(io.meshfed.api.v1.ReadinessReport.newBuilder()
                .setReady(true).addAddresses("nowhere").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("address 'nowhere' must be HOST:PORT"));
    }
}
