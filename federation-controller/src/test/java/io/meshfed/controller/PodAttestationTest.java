package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AttestedSource;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.UnregisterClusterRequest;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pod attestation on fabric8's mock API server: the connector watches the member cluster's Pods and the cluster's
 * east-west gateways (and nobody else) get each attestable pod's IP with its workload ID in the cluster's trust
 * domain; pods that must not be attested (host network, not running, without IP, sharing an IP, with names that are
 * no SPIFFE path segment) are not, the size bound turns attestation off for the cluster, and a connector that may not
 * watch Pods says so while everything else keeps working.
 */
class PodAttestationTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TD = "cluster-a.acme.mesh";

    @TempDir
    Path dir;

    @Test
    void podsCreatedChangedAndDeletedAreFollowedInTheClustersGatewaySnapshotOnly() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            KubernetesClient k = a.client();
            create(k, pod("shop", "web-1", "cart", "Running", false, "10.1.0.5", "fd00:10::5"));
            create(k, pod("shop", "web-2", null, "Running", false, "10.1.0.6")); // service account: default
            create(k, pod("shop", "finished", "cart", "Succeeded", false, "10.1.0.6")); // its IP is free again
            create(k, pod("kube-system", "node-agent", "agent", "Running", true, "10.1.0.100"));
            create(k, pod("shop", "starting", "cart", "Pending", false, "10.1.0.7"));
            create(k, pod("shop", "no-ip", "cart", "Running", false));
            create(k, pod("shop", "twin-a", "cart", "Running", false, "10.1.0.8"));
            create(k, pod("shop", "twin-b", "billing", "Running", false, "10.1.0.8"));
            create(k, pod("shop", "beside-host", "cart", "Running", false, "10.1.0.100")); // the node's IP

            try (TestSubscriber gateway = subscriber(federation, TD, "/meshfed/gateway/gw-a")) {
                ConfigSnapshot s = gateway.awaitSnapshot(attests(Map.of(
                        "10.1.0.5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/cart",
                        "10.1.0.6", "spiffe://cluster-a.acme.mesh/ns/shop/sa/default",
                        "fd00:10::5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/cart")), WAIT);
                assertThat(s.getAttestedSourcesList()).extracting(AttestedSource::getAddress)
                        .as("sorted by address").containsExactly("10.1.0.5", "10.1.0.6", "fd00:10::5");
                assertThat(s.getForwardingTrustDomainsList()).containsExactly(TD);
                await().atMost(WAIT).untilAsserted(() -> assertThat(cluster(admin).getLastError())
                        .contains("2 pod IP(s) held by more than one pod attest nobody (first: 10.1.0.100 by"
                                + " kube-system/node-agent, shop/beside-host)"));
                assertThat(Http.get(federation, "/metrics").body())
                        .contains("meshfed_cluster_attested_pods{cluster=\"cluster-a\"} 3.0");

                // Nobody else gets them: the cluster's agent and edge, another member's gateway.
                for (String[] other : List.of(new String[] {TD, "/ns/shop/vm/vm-1"},
                        new String[] {TD, "/meshfed/edge/edge-a"}, new String[] {"vms.acme.mesh", "/meshfed/gateway/gw"})) {
                    try (TestSubscriber o = subscriber(federation, other[0], other[1])) {
                        ConfigSnapshot got = o.awaitSnapshot(x -> true, WAIT);
                        assertThat(got.getAttestedSourcesList()).as(other[1] + " of " + other[0]).isEmpty();
                        // Every subscriber learns whose gateways may forward: the Kubernetes member's only, never the
                        // VM member's (its gateway has no pods to speak for).
                        assertThat(got.getForwardingTrustDomainsList()).as(other[1] + " of " + other[0])
                                .containsExactly(TD);
                        assertThat(got.getBundles().getBundlesCount()).isPositive();
                    }
                }

                // A changed service account, a deleted pod, a twin gone: the gateway's snapshot follows.
                k.pods().inNamespace("shop").resource(pod("shop", "web-1", "checkout", "Running", false, "10.1.0.5",
                        "fd00:10::5")).update();
                k.pods().inNamespace("shop").withName("web-2").delete();
                k.pods().inNamespace("shop").withName("twin-b").delete();
                gateway.awaitSnapshot(attests(Map.of(
                        "10.1.0.5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/checkout",
                        "10.1.0.8", "spiffe://cluster-a.acme.mesh/ns/shop/sa/cart",
                        "fd00:10::5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/checkout")), WAIT);
                // The pending pod starts running.
                k.pods().inNamespace("shop").resource(pod("shop", "starting", "cart", "Running", false, "10.1.0.7"))
                        .update();
                gateway.awaitSnapshot(s2 -> addresses(s2).contains("10.1.0.7"), WAIT);
            }

            // The connector still used exactly the verbs its RBAC grants (list and watch on pods).
            assertThat(a.connectorVerbs()).containsEntry("/pods", new java.util.TreeSet<>(List.of("list", "watch")));

            // Leaving the federation removes the cluster's pod identities.
            admin.unregisterCluster(UnregisterClusterRequest.newBuilder().setName("cluster-a").build());
            assertThat(federation.controller().store().list(Kind.POD_IDENTITIES.storeName())).isEmpty();
        }
    }

    @Test
    void aPodCannotNameAnotherTrustDomainAndNamesThatAreNoSpiffeSegmentAreSkippedAndCounted() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            KubernetesClient k = a.client();
            create(k, pod("shop", "good", "cart", "Running", false, "10.1.0.5"));
            create(k, pod("shop", "climber", "../../../other.acme.mesh/ns/x/sa/y", "Running", false, "10.1.0.6"));
            create(k, pod("shop", "dots", "..", "Running", false, "10.1.0.7"));
            create(k, pod("shop", "spaced", "a b", "Running", false, "10.1.0.8"));
            create(k, pod("other.acme.mesh", "look-alike", "admin", "Running", false, "10.1.0.9"));

            try (TestSubscriber gateway = subscriber(federation, TD, "/meshfed/gateway/gw-a")) {
                ConfigSnapshot s = gateway.awaitSnapshot(attests(Map.of(
                        "10.1.0.5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/cart",
                        "10.1.0.9", "spiffe://cluster-a.acme.mesh/ns/other.acme.mesh/sa/admin")), WAIT);
                assertThat(s.getAttestedSourcesList()).allSatisfy(x -> assertThat(
                        io.meshfed.trust.SpiffeId.parse(x.getIdentity()).trustDomain().name()).isEqualTo(TD));
            }
            await().atMost(WAIT).untilAsserted(() -> assertThat(cluster(admin).getLastError())
                    .contains("3 pod(s) not attested, their namespace or service account is not a SPIFFE path segment"
                            + " (first: shop/climber: service account '../../../other.acme.mesh/ns/x/sa/y' must be"
                            + " one SPIFFE path segment"));
            assertThat(cluster(admin).getState()).isEqualTo("synced");
        }
    }

    @Test
    void overTheSizeBoundNoPodOfTheClusterIsAttestedAndTheStatusSaysSo() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, c -> c.withMaxPodsPerCluster(3));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            KubernetesClient k = a.client();
            for (int i = 1; i <= 3; i++) {
                create(k, pod("shop", "web-" + i, "cart", "Running", false, "10.1.0." + i));
            }
            try (TestSubscriber gateway = subscriber(federation, TD, "/meshfed/gateway/gw-a")) {
                gateway.awaitSnapshot(s -> s.getAttestedSourcesCount() == 3, WAIT);

                create(k, pod("shop", "web-4", "cart", "Running", false, "10.1.0.4"));
                gateway.awaitSnapshot(s -> s.getAttestedSourcesCount() == 0, WAIT);
                await().atMost(WAIT).untilAsserted(() -> assertThat(cluster(admin).getLastError()).isEqualTo(
                        "pod attestation is off: the cluster has 4 pods, more than maxPodsPerCluster (3); raise it"
                                + " (MESHFED_MAX_PODS_PER_CLUSTER) to attest this cluster's pods"));
                assertThat(federation.controller().store().list(Kind.POD_IDENTITIES.storeName())).isEmpty();

                k.pods().inNamespace("shop").withName("web-4").delete();
                gateway.awaitSnapshot(s -> s.getAttestedSourcesCount() == 3, WAIT);
                await().atMost(WAIT).until(() -> cluster(admin).getLastError().isEmpty());
            }
        }
    }

    @Test
    void aForbiddenPodsWatchIsAClearStatusErrorWhileServicesStillSyncAndAGrantTurnsAttestationOn() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            a.forbidConnector("pods"); // a cluster joined before the connector needed pods
            create(a.client(), pod("shop", "web-1", "cart", "Running", false, "10.1.0.5"));
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            ClusterConnectorTest.exportHello(a.client(), "10.1.0.5");

            try (TestSubscriber vm = subscriber(federation, "vms.acme.mesh", "/ns/demo/vm/vm-1");
                    TestSubscriber gateway = subscriber(federation, TD, "/meshfed/gateway/gw-a")) {
                // Services still sync: the VMs reach hello.demo in net-a.
                vm.awaitSnapshot(s -> s.getServicesList().stream().filter(x -> x.getName().equals("hello"))
                        .flatMap(x -> x.getNetworksList().stream()).mapToInt(NetworkEndpoints::getHealthyEndpoints)
                        .sum() == 1, WAIT);
                await().atMost(WAIT).untilAsserted(() -> {
                    ClusterState c = cluster(admin);
                    assertThat(c.getState()).isEqualTo("synced");
                    assertThat(c.getExportedServices()).isEqualTo(1);
                    assertThat(c.getLastError()).contains("pod attestation is off: the connector may not list and"
                            + " watch pods (forbidden: pods is forbidden: User")
                            .contains("run 'meshfed cluster join cluster-a --network net-a' again to grant it pods:"
                                    + " list, watch");
                });
                assertThat(gateway.latest().getAttestedSourcesList()).isEmpty();

                // `cluster join` run again grants the verbs: the watch starts and the pod is attested.
                a.allowConnector("pods");
                gateway.awaitSnapshot(attests(Map.of("10.1.0.5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/cart")),
                        Duration.ofSeconds(60));
                await().atMost(WAIT).until(() -> cluster(admin).getLastError().isEmpty());
            }
        }
    }

    @Test
    void anUnreachableApiServerWithdrawsThePodIdentitiesAtOnceAndItsReturnRestoresThem() throws Exception {
        // a long grace: endpoints stay (stale), but a pod IP may be another pod's by now
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofMinutes(5));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            ClusterConnectorTest.register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            create(a.client(), pod("shop", "web-1", "cart", "Running", false, "10.1.0.5"));
            try (TestSubscriber gateway = subscriber(federation, TD, "/meshfed/gateway/gw-a")) {
                gateway.awaitSnapshot(s -> s.getAttestedSourcesCount() == 1, WAIT);

                a.stop();
                gateway.awaitSnapshot(s -> s.getAttestedSourcesCount() == 0, WAIT);
                assertThat(cluster(admin).getState()).isEqualTo("stale");
                assertThat(federation.controller().store().list(Kind.POD_IDENTITIES.storeName())).isEmpty();

                a.restart();
                gateway.awaitSnapshot(attests(Map.of("10.1.0.5", "spiffe://cluster-a.acme.mesh/ns/shop/sa/cart")),
                        Duration.ofSeconds(60));
            }
        }
    }

    private static TestSubscriber subscriber(TestFederation federation, String trustDomain, String path)
            throws Exception {
        return new TestSubscriber(federation.channel(federation.memberSvid(trustDomain, path)));
    }

    private static ClusterState cluster(io.meshfed.api.v1.AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.listClusters(ListRequest.getDefaultInstance()).getClusters(0);
    }

    private static Predicate<ConfigSnapshot> attests(Map<String, String> expected) {
        return s -> s != null && s.getAttestedSourcesList().stream()
                .collect(Collectors.toMap(AttestedSource::getAddress, AttestedSource::getIdentity)).equals(expected);
    }

    private static List<String> addresses(ConfigSnapshot s) {
        return s.getAttestedSourcesList().stream().map(AttestedSource::getAddress).toList();
    }

    private static Pod pod(String namespace, String name, String serviceAccount, String phase, boolean hostNetwork,
            String... ips) {
        PodBuilder b = new PodBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
                .withNewSpec().withServiceAccountName(serviceAccount).withHostNetwork(hostNetwork ? true : null)
                .addNewContainer().withName("app").withImage("app:1").endContainer().endSpec()
                .withNewStatus().withPhase(phase).endStatus();
        if (ips.length > 0) {
            b.editStatus().withPodIP(ips[0]).endStatus();
            for (String ip : ips) {
                b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
            }
        }
        return b.build();
    }

    private static void create(KubernetesClient k, Pod pod) {
        k.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    }
}
