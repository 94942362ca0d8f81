package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Network;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.SpiffeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attack 4 of issue 12: a second member in network west joins a gateway and reports it ready at an address of its
 * own. West's gateways are only those of its gateway members (the first member added, or those the admin names),
 * east's snapshot pins their exact SPIFFE IDs, and a gateway may report only addresses inside its member's CIDRs.
 */
class GatewayMembersTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String WEST_GW = "spiffe://west.acme.mesh/meshfed/gateway/gw";
    private static final String WEST_B_GW = "spiffe://west-b.acme.mesh/meshfed/gateway/gw";

    @TempDir
    Path dir;
    private TestFederation federation;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
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

    /** hello.demo in west, behind a joined agent, exported to east. */
    private void helloInWest() throws Exception {
        var agent = federation.join(federation.agentToken("west", "demo", "hello.demo"), Role.ROLE_AGENT, "west",
                "vm-1", SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/vm/vm-1"));
        RegistrationServiceGrpc.newBlockingStub(federation.channel(agent.svid())).reportWorkloads(WorkloadReport
                .newBuilder().addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                        .setAddress("127.0.0.1").setPort(8080).setHealthy(true).setInbound("127.0.0.1:15006"))
                .build());
        admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("east").build());
    }

    /** A gateway of {@code member} joined with a token; returns its registration stub. */
    private RegistrationServiceGrpc.RegistrationServiceBlockingStub gateway(String member) throws Exception {
        var joined = federation.join(federation.token(member, Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, member, "gw",
                SpiffeId.parse("spiffe://" + member + ".acme.mesh/meshfed/gateway/gw"));
        return RegistrationServiceGrpc.newBlockingStub(federation.channel(joined.svid()));
    }

    private static ReadinessReport ready(String address) {
        return ReadinessReport.newBuilder().setReady(true).addAddresses(address).build();
    }

    private static Optional<GatewayRoute> westRoute(ConfigSnapshot s) {
        return s.getServicesList().stream().filter(x -> x.getName().equals("hello"))
                .flatMap(x -> x.getNetworksList().stream()).filter(n -> n.getNetwork().equals("west"))
                .flatMap(n -> n.getRoutesList().stream()).findFirst();
    }

    private static boolean routesTo(ConfigSnapshot s, String address, String identity) {
        return westRoute(s).filter(r -> r.getGatewayAddress().equals(address)
                && r.getIdentitiesList().equals(List.of(identity))).isPresent();
    }

    private Network network(String name) {
        return admin.listNetworks(ListRequest.getDefaultInstance()).getNetworksList().stream()
                .filter(n -> n.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aSecondMembersGatewayInTheNetworkIsNotTheNetworksGatewayAndTheAdminDecidesWhichIs() throws Exception {
        admin.addMember(AddMemberRequest.newBuilder().setName("west-b").setType("vm").setNetwork("west").build());
        assertThat(network("west").getGatewayMembersList()).as("the first member added").containsExactly("west");
        helloInWest();
        try (TestSubscriber east = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                "/meshfed/gateway/gw")))) {
            // west-b's gateway joins and reports ready first, at its own address: west still has no gateway.
            gateway("west-b").reportReadiness(ready("127.0.2.9:15443"));
            ConfigSnapshot before = east.awaitSnapshot(s -> true, WAIT);
            assertThat(westRoute(before)).isEmpty();
            assertThat(before.getGatewaysList()).noneMatch(g -> g.getNetwork().equals("west"));

            // West's own gateway: east dials its address and accepts its ID only.
            gateway("west").reportReadiness(ready("127.0.2.1:15443"));
            ConfigSnapshot pinned = east.awaitSnapshot(s -> westRoute(s).isPresent(), WAIT);
            assertThat(westRoute(pinned).orElseThrow().getGatewayAddress()).isEqualTo("127.0.2.1:15443");
            assertThat(westRoute(pinned).orElseThrow().getIdentitiesList()).containsExactly(WEST_GW);
            assertThat(pinned.getGatewaysList()).filteredOn(g -> g.getNetwork().equals("west")).singleElement()
                    .satisfies(g -> assertThat(g.getAddress()).isEqualTo("127.0.2.1:15443"));

            // The admin names west-b instead: its gateway, and only its, is west's.
            Network changed = admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west")
                    .addGatewayMembers("west-b").build());
            assertThat(changed.getGatewayMembersList()).containsExactly("west-b");
            east.awaitSnapshot(s -> routesTo(s, "127.0.2.9:15443", WEST_B_GW), WAIT);
            long revision = admin.status(ListRequest.getDefaultInstance()).getStoreRevision();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("west-b").build());
            assertThat(admin.status(ListRequest.getDefaultInstance()).getStoreRevision())
                    .as("the same list again changes nothing").isEqualTo(revision);

            // Both, in the admin's order: the first ready one's address, either ID.
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("west")
                    .addGatewayMembers("west-b").build());
            ConfigSnapshot both = east.awaitSnapshot(s -> westRoute(s).map(r -> r.getIdentitiesCount() == 2)
                    .orElse(false), WAIT);
            assertThat(westRoute(both).orElseThrow().getGatewayAddress()).isEqualTo("127.0.2.1:15443");
            assertThat(westRoute(both).orElseThrow().getIdentitiesList()).containsExactly(WEST_B_GW, WEST_GW);

            // An address set by the admin is dialed, and still only the gateway members' gateways may answer it.
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress("127.0.2.100:15443")
                    .addGatewayMembers("west").build());
            east.awaitSnapshot(s -> routesTo(s, "127.0.2.100:15443", WEST_GW), WAIT);
            assertThat(network("west").getGatewayMembersList()).containsExactly("west");
            assertThat(network("west").getGatewayAddress()).isEqualTo("127.0.2.100:15443");
        }
    }

    private static ReadinessReport ready(String address, String tunnel) {
        return ready(address).toBuilder().setTunnelAddress(tunnel).build();
    }

    private static boolean tunnelsTo(ConfigSnapshot s, String tunnel) {
        return westRoute(s).filter(r -> r.getTunnelAddress().equals(tunnel)).isPresent()
                && s.getGatewaysList().stream().anyMatch(g -> g.getNetwork().equals("west")
                        && g.getTunnelAddress().equals(tunnel));
    }

    @Test
    void theNetworksGatewayReportsItsTunnelListenerWhichRoutesCarryWithTheSameIdentitiesAndOnlyInsideItsCidrs()
            throws Exception {
        admin.addMember(AddMemberRequest.newBuilder().setName("west-b").setType("vm").setNetwork("west").build());
        helloInWest();
        var west = gateway("west");
        try (TestSubscriber east = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                "/meshfed/gateway/gw")))) {
            // Another member's gateway in the same network cannot put its tunnel in west's routes.
            gateway("west-b").reportReadiness(ready("127.0.2.9:15443", "127.0.2.9:15008"));
            west.reportReadiness(ready("127.0.2.1:15443", "127.0.2.1:15008"));
            ConfigSnapshot s = east.awaitSnapshot(x -> tunnelsTo(x, "127.0.2.1:15008"), WAIT);
            assertThat(westRoute(s).orElseThrow().getIdentitiesList()).containsExactly(WEST_GW);
            assertThat(westRoute(s).orElseThrow().getGatewayAddress()).isEqualTo("127.0.2.1:15443");

            // A full advertisement without a tunnel (the gateway runs with --tunnel-listen none) withdraws it.
            west.reportReadiness(ready("127.0.2.1:15443"));
            east.awaitSnapshot(x -> tunnelsTo(x, ""), WAIT);

            // A tunnel address needs the addresses beside it, must be HOST:PORT, and inside the member's CIDRs.
            long revision = admin.status(ListRequest.getDefaultInstance()).getStoreRevision();
            fails(() -> west.reportReadiness(ReadinessReport.newBuilder().setReady(true)
                    .setTunnelAddress("127.0.2.1:15008").build()), Status.Code.INVALID_ARGUMENT,
                    "a tunnel address comes with the gateway's addresses");
            fails(() -> west.reportReadiness(ready("127.0.2.1:15443", "127.0.2.1")), Status.Code.INVALID_ARGUMENT,
                    "address '127.0.2.1'");
            admin.addMember(AddMemberRequest.newBuilder().setName("west-c").setType("vm").setNetwork("west")
                    .addCidrs("127.0.0.0/24").addCidrs("127.0.2.0/24").build());
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("west-c").build());
            var westC = gateway("west-c");
            fails(() -> westC.reportReadiness(ready("127.0.2.3:15443", "127.0.9.3:15008")),
                    Status.Code.PERMISSION_DENIED, "address '127.0.9.3:15008' is outside member west-c's CIDRs");
            assertThat(admin.status(ListRequest.getDefaultInstance()).getStoreRevision()).as("refusals store nothing")
                    .isGreaterThan(revision); // the member and network changes above moved it, the refusals did not
            westC.reportReadiness(ready("127.0.2.3:15443", "127.0.2.3:15008"));
            east.awaitSnapshot(x -> tunnelsTo(x, "127.0.2.3:15008"), WAIT);

            // An address set by the admin goes with the admin's tunnel address, or none.
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress("127.0.2.100:15443")
                    .build());
            east.awaitSnapshot(x -> routesTo(x, "127.0.2.100:15443", "spiffe://west-c.acme.mesh/meshfed/gateway/gw")
                    && tunnelsTo(x, ""), WAIT);
            Network withTunnel = admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west")
                    .setGatewayAddress("127.0.2.100:15443").setTunnelAddress("127.0.2.100:15008").build());
            assertThat(withTunnel.getTunnelAddress()).isEqualTo("127.0.2.100:15008");
            east.awaitSnapshot(x -> tunnelsTo(x, "127.0.2.100:15008"), WAIT);
        }
        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("north")
                .setTunnelAddress("127.0.3.1:15008").build()), Status.Code.INVALID_ARGUMENT,
                "tunnel address '127.0.3.1:15008' needs a gateway address beside it");
        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("north")
                .setGatewayAddress("127.0.3.1:15443").setTunnelAddress("127.0.3.1").build()),
                Status.Code.INVALID_ARGUMENT, "tunnel address '127.0.3.1' must be HOST:PORT");
    }

    @Test
    void networksStoredBeforeGatewayMembersGetTheirOnlyMemberAtStartAndAmbiguousOnesWaitForTheAdmin()
            throws Exception {
        admin.addMember(AddMemberRequest.newBuilder().setName("west-b").setType("vm").setNetwork("west").build());
        var store = federation.controller().store();
        for (String n : List.of("east", "west")) { // as written before the list existed
            store.transact(tx -> io.meshfed.controller.model.Records.put(tx, io.meshfed.controller.model.Kind.NETWORK,
                    n, new io.meshfed.controller.model.NetworkRecord(n, "", null),
                    io.meshfed.controller.store.StoreTransaction.ANY));
        }

        federation.restart();

        admin = federation.admin();
        assertThat(network("east").getGatewayMembersList()).containsExactly("east");
        assertThat(network("west").getGatewayMembersList()).as("two members: the admin decides").isEmpty();
    }

    @Test
    void gatewayMembersMustBeMembersOfTheNetwork() {
        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("ghost")
                .build()), Status.Code.FAILED_PRECONDITION, "gateway member 'ghost' does not exist; add it first with:"
                + " meshfed member add ghost --type vm --network west");
        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("east")
                .build()), Status.Code.FAILED_PRECONDITION, "gateway member 'east' is in network east, not west");
        fails(() -> admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("West!")
                .build()), Status.Code.INVALID_ARGUMENT, "gateway member name 'West!' must be a DNS label");
        assertThat(network("west").getGatewayMembersList()).as("a refused change changes nothing")
                .containsExactly("west");
    }

    @Test
    void aGatewayMayReportOnlyAddressesInsideItsMembersCidrs() throws Exception {
        admin.addMember(AddMemberRequest.newBuilder().setName("west-b").setType("vm").setNetwork("west")
                .addCidrs("127.0.0.0/24").addCidrs("fd00:2::/64").build());
        assertThat(admin.listMembers(ListRequest.getDefaultInstance()).getMembersList()).filteredOn(
                m -> m.getName().equals("west-b")).singleElement()
                .satisfies(m -> assertThat(m.getCidrsList()).containsExactly("127.0.0.0/24", "fd00:2::/64"));
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").addGatewayMembers("west-b").build());
        helloInWest();
        var westB = gateway("west-b"); // joined advertising 127.0.0.1:15443, inside 127.0.0.0/24
        try (TestSubscriber east = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                "/meshfed/gateway/gw")))) {
            westB.reportReadiness(ready("[fd00:2::5]:15443"));
            east.awaitSnapshot(s -> routesTo(s, "[fd00:2::5]:15443", WEST_B_GW), WAIT);

            long revision = admin.status(ListRequest.getDefaultInstance()).getStoreRevision();
            fails(() -> westB.reportReadiness(ready("127.0.2.9:15443")), Status.Code.PERMISSION_DENIED,
                    "address '127.0.2.9:15443' is outside member west-b's CIDRs [127.0.0.0/24, fd00:2::/64]");
            fails(() -> westB.reportReadiness(ready("[fd00:3::5]:15443")), Status.Code.PERMISSION_DENIED,
                    "address '[fd00:3::5]:15443' is outside member west-b's CIDRs");
            fails(() -> westB.reportReadiness(ready("gw.example.com:15443")), Status.Code.PERMISSION_DENIED,
                    "address 'gw.example.com:15443' is not an IP address; member west-b has CIDRs");
            assertThat(admin.status(ListRequest.getDefaultInstance()).getStoreRevision())
                    .as("a refused report keeps the previous addresses").isEqualTo(revision);
            assertThat(routesTo(east.latest(), "[fd00:2::5]:15443", WEST_B_GW)).isTrue();
        }

        // A gateway that joins advertising an address outside its member's CIDRs is refused, with the reason.
        admin.addMember(AddMemberRequest.newBuilder().setName("west-c").setType("vm").setNetwork("west")
                .addCidrs("10.9.0.0/16").build());
        fails(() -> gateway("west-c"), Status.Code.PERMISSION_DENIED,
                "address_refused: address '127.0.0.1:15443' is outside member west-c's CIDRs [10.9.0.0/16]");

        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("west-d").setType("vm").setNetwork("west")
                .addCidrs("10.0.0.1/8").build()), Status.Code.INVALID_ARGUMENT,
                "member 'west-d': CIDR '10.0.0.1/8' has bits set after its /8 prefix");
        fails(() -> admin.addMember(AddMemberRequest.newBuilder().setName("west-d").setType("vm").setNetwork("west")
                .addCidrs("10.0.0.0").build()), Status.Code.INVALID_ARGUMENT,
                "CIDR '10.0.0.0' must be ADDRESS/PREFIX");
    }

    @Test
    void aKubernetesMemberIsTheGatewayMemberOfTheNetworkItCreatesUntilItIsUnregistered() throws Exception {
        try (MockCluster cluster = new MockCluster()) {
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", cluster);
            assertThat(network("net-a").getGatewayMembersList()).containsExactly("cluster-a");
            admin.unregisterCluster(io.meshfed.api.v1.UnregisterClusterRequest.newBuilder().setName("cluster-a")
                    .build());
            assertThat(network("net-a").getGatewayMembersList()).isEmpty();
        }
    }
}
