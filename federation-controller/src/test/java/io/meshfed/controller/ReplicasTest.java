package io.meshfed.controller;

import static io.meshfed.controller.testing.TestSubscriber.remote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.RotateTrustDomainRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.controller.store.StoreSettings;
import io.meshfed.controller.store.postgres.PostgresLocation;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestPostgres;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two controller replicas on one PostgreSQL: both serve admin calls and config streams, only the leader runs the
 * member connectors, and when it stops the other takes over and runs them.
 */
class ReplicasTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final TestPostgres postgres = TestPostgres.shared();
    @TempDir
    Path dir;

    @Test
    void bothServeOnlyTheLeaderRunsConnectorsAndTheFollowerTakesOverWhenItStops() throws Exception {
        PostgresLocation database = postgres.newDatabase();
        StoreSettings settings = new StoreSettings(database.toString(),
                StoreSettings.Password.fromEnvironment("MESHFED_STORE_PASSWORD", TestPostgres.PASSWORD));
        UnaryOperator<ControllerConfig> replica = c -> c.withStore(settings).withLeaderLeaseTtl(Duration.ofSeconds(2));
        try (MockCluster cluster = new MockCluster(); TestFederation b = startBoth(replica)) {
            TestFederation a = first;
            assertThat(a.controller().leadership().isLeader()).isTrue();
            assertThat(b.controller().leadership().isLeader()).isFalse();
            assertThat(b.controller().leadership().lease()).get().satisfies(l ->
                    assertThat(l.holder()).isEqualTo(a.controller().leadership().holder()));
            var status = b.admin().status(ListRequest.getDefaultInstance());
            assertThat(status.getLeader()).isEqualTo(a.controller().leadership().holder());
            assertThat(status.getLeaderEpoch()).isEqualTo(1);
            assertThat(status.getReplica()).isEqualTo(b.controller().leadership().holder());

            // Admin writes through the follower land in the shared store; the leader's connector takes the cluster.
            var admin = b.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", cluster);
            ClusterConnectorTest.exportHello(cluster.client(), "10.1.0.5");
            try (TestSubscriber vm = new TestSubscriber(b.channel(b.memberSvid("vms.acme.mesh", "/ns/demo/vm/vm-1")))) {
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 1, WAIT);
                await().atMost(WAIT).until(() -> state(a), "synced"::equals);
                // The follower runs no connector, yet tells the leader's connector state (published in the store).
                await().atMost(WAIT).until(() -> state(b), "synced"::equals);
                assertThat(b.controller().leadership().isLeader()).isFalse();

                // What only the leader does, asked of the follower: refused with the reason, naming the leader.
                assertThatThrownBy(() -> b.admin().rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                        .setTrustDomain("vms.acme.mesh").build())).isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE))
                        .hasMessageContaining("is not the leader")
                        .hasMessageContaining("the lease is " + a.controller().leadership().holder() + "'s");
                assertThat(a.admin().listRotations(ListRequest.getDefaultInstance()).getRotationsCount()).isZero();

                a.close(); // the leader stops: it releases the lease, and the follower need not wait a lease time
                await().atMost(Duration.ofSeconds(10)).until(() -> b.controller().leadership().isLeader());
                await().atMost(WAIT).until(() -> state(b), "synced"::equals);
                // The new leader's connector follows the cluster: a second endpoint reaches the VM, on the stream it
                // kept all along.
                ClusterConnectorTest.scale(cluster.client(), "10.1.0.5", "10.1.0.6");
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 2, WAIT);
            }
        }
    }

    @Test
    void replicasInAClusterElectTheirLeaderWithAKubernetesLeaseThatKubectlShows() throws Exception {
        PostgresLocation database = postgres.newDatabase();
        StoreSettings settings = new StoreSettings(database.toString(),
                StoreSettings.Password.fromEnvironment("MESHFED_STORE_PASSWORD", TestPostgres.PASSWORD));
        UnaryOperator<ControllerConfig> replica = c -> c.withStore(settings).withLeaderLeaseTtl(Duration.ofSeconds(2))
                .withLeaderLease("kubernetes:meshfed-system/meshfed-controller-leader");
        try (MockCluster apiServer = MockCluster.withoutCrds();
                var kubeconfig = io.meshfed.controller.testing.KubeconfigProperty.pointAt(apiServer, null)) {
            try (TestFederation b = startBoth(replica)) {
                TestFederation a = first;
                String leader = a.controller().leadership().holder();
                assertThat(a.controller().leadership().isLeader()).isTrue();
                assertThat(b.controller().leadership().isLeader()).isFalse();
                assertThat(holder(apiServer)).isEqualTo(leader);
                var status = b.admin().status(ListRequest.getDefaultInstance());
                assertThat(status.getLeader()).isEqualTo(leader);
                assertThat(status.getLeaderEpoch()).isEqualTo(1);
                // Leader-only work asked of the follower is refused by the store's fence, naming the leader.
                b.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net")
                        .setGatewayAddress("127.0.30.1:15443").build());
                b.admin().addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net")
                        .build());
                assertThatThrownBy(() -> b.admin().rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                        .setTrustDomain("vms.acme.mesh").build())).hasMessageContaining("is not the leader")
                        .hasMessageContaining("the lease is " + leader + "'s");

                a.close(); // releases the Lease: the follower takes it in its next round
                await().atMost(Duration.ofSeconds(10)).until(() -> b.controller().leadership().isLeader());
                assertThat(holder(apiServer)).isEqualTo(b.controller().leadership().holder());
                assertThat(b.controller().leadership().epoch()).isEqualTo(2);
                assertThat(b.admin().status(ListRequest.getDefaultInstance()).getLeader())
                        .isEqualTo(b.controller().leadership().holder());
            }
        }
    }

    @Test
    void aKubernetesLeaseOnAStoreThatOnlyOneProcessCanOpenIsRefusedWithTheReason() {
        assertThatThrownBy(() -> TestFederation.start(dir, c -> c.withLeaderLease("kubernetes:meshfed-system/x")))
                .hasMessageContaining("leaderLease kubernetes:meshfed-system/x elects a leader among replicas that"
                        + " share a PostgreSQL store")
                .hasMessageContaining("is one process's: leave leaderLease at 'store'");
    }

    private static String holder(MockCluster apiServer) {
        return apiServer.client().leases().inNamespace("meshfed-system").withName("meshfed-controller-leader").get()
                .getSpec().getHolderIdentity();
    }

    @Test
    void theLeaderExpiresAnAgentOnlyWhenNoReplicaHoldsItsStream() throws Exception {
        PostgresLocation database = postgres.newDatabase();
        StoreSettings settings = new StoreSettings(database.toString(),
                StoreSettings.Password.fromEnvironment("MESHFED_STORE_PASSWORD", TestPostgres.PASSWORD));
        Duration grace = Duration.ofSeconds(2);
        UnaryOperator<ControllerConfig> replica = c -> c.withStore(settings).withLeaderLeaseTtl(Duration.ofSeconds(2))
                .withAgentGracePeriod(grace);
        try (TestFederation b = startBoth(replica)) {
            TestFederation a = first;
            assertThat(a.controller().leadership().isLeader()).isTrue();
            var admin = b.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            admin.export(io.meshfed.api.v1.ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                    .setToAll(true).build());
            io.meshfed.trust.X509Svid agent = b.join(b.agentToken("east", "demo", "hello.demo"),
                    io.meshfed.api.v1.Role.ROLE_AGENT, "east", "vm-1",
                    io.meshfed.trust.SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/vm/vm-1")).svid();
            try (TestSubscriber stream = new TestSubscriber(b.channel(agent))) { // its stream is on the follower
                io.meshfed.api.v1.RegistrationServiceGrpc.newBlockingStub(b.channel(agent)).reportWorkloads(
                        io.meshfed.api.v1.WorkloadReport.newBuilder().addWorkloads(io.meshfed.api.v1.WorkloadInstance
                                .newBuilder().setService("hello").setNamespace("demo").setAddress("10.0.1.5")
                                .setPort(8080).setHealthy(true).setInbound("10.0.1.5:15006")).build());
                assertThat(healthy(a)).isEqualTo(1);
                // Several grace periods: the leader, which holds no stream of the agent, keeps its workloads.
                await().during(grace.multipliedBy(3)).atMost(grace.multipliedBy(4)).until(() -> healthy(a) == 1);
            }
            // The stream is gone from every replica: after the grace period the leader withdraws the workloads.
            await().atMost(Duration.ofSeconds(15)).until(() -> healthy(a) == 0);
        }
    }

    private static long healthy(TestFederation f) throws Exception {
        return f.admin().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                .filter(s -> s.getName().equals("hello")).flatMap(s -> s.getNetworksList().stream())
                .flatMap(n -> n.getEndpointsList().stream()).filter(io.meshfed.api.v1.CatalogEndpoint::getHealthy).count();
    }

    private TestFederation first;

    private TestFederation startBoth(UnaryOperator<ControllerConfig> replica) throws Exception {
        first = TestFederation.start(dir, replica);
        try {
            return TestFederation.start(dir, replica);
        } catch (Exception | Error e) {
            first.close();
            throw e;
        }
    }

    private static String state(TestFederation f) throws Exception {
        return f.admin().listClusters(ListRequest.getDefaultInstance()).getClustersList().stream()
                .filter(c -> c.getName().equals("cluster-a")).map(ClusterState::getState).findFirst().orElse("absent");
    }
}
