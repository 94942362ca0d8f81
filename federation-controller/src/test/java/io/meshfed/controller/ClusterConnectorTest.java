package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ClusterState;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.RegisterClusterRequest;
import io.meshfed.api.v1.Service;
import io.meshfed.controller.connector.kubernetes.Mcs;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import static io.meshfed.controller.testing.TestSubscriber.remote;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two member clusters on fabric8's mock API server and a VM network: a Service exported in cluster A (MCS
 * ServiceExport) reaches cluster B as a ServiceImport with a gateway-pointing EndpointSlice and the VM agents'
 * snapshots; scaling, a second port, a gateway move and a bundle change follow; deleting the ServiceExport withdraws
 * it everywhere. An API server outage keeps the endpoints (stale) for the grace period, then withdraws them, and
 * the cluster's return restores them without duplicates.
 */
class ClusterConnectorTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void anExportInClusterAReachesClusterBAndTheVmsAndFollowsEveryChange() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster a = new MockCluster(); MockCluster b = new MockCluster()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            register(admin, "cluster-b", "net-b", "127.0.20.1:15443", b);
            exportHello(a.client(), "10.1.0.5");

            try (TestSubscriber vm = new TestSubscriber(federation.channel(federation.memberSvid("vms.acme.mesh",
                    "/ns/demo/vm/vm-1")))) {
                // The VMs reach hello.demo in net-a through its gateway.
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 1, WAIT);
                // Cluster B: ServiceImport, derived Service and EndpointSlice pointing at B's gateway.
                int listenPort = await().atMost(WAIT).until(() -> listenPort(b.client()), p -> p > 0);
                GenericKubernetesResource imported = b.client().genericKubernetesResources(Mcs.SERVICE_IMPORT)
                        .inNamespace("demo").withName("hello").get();
                assertThat(Serialization.asJson(imported.getAdditionalProperties().get("spec")))
                        .contains("\"type\":\"ClusterSetIP\"").contains("\"port\":8080");
                EndpointSlice slice = slice(b.client());
                assertThat(slice.getMetadata().getLabels()).containsEntry("multicluster.kubernetes.io/service-name",
                        "hello").containsEntry("kubernetes.io/service-name", "mcs-hello");
                assertThat(slice.getEndpoints()).singleElement().satisfies(e ->
                        assertThat(e.getAddresses()).containsExactly("127.0.20.1"));
                assertThat(listenPort).isBetween(20000, 32767);
                assertThat(b.client().services().inNamespace("demo").withName("mcs-hello").get().getSpec().getPorts())
                        .singleElement().satisfies(p -> assertThat(p.getPort()).isEqualTo(8080));
                // A does not import its own service back, and its ServiceExport says it is exported.
                assertThat(a.client().genericKubernetesResources(Mcs.SERVICE_IMPORT).inNamespace("demo")
                        .withName("hello").get()).isNull();
                await().atMost(WAIT).until(() -> condition(a.client(), "hello", "Exported"), "True"::equals);
                assertThat(condition(a.client(), "hello", "Valid")).isEqualTo("True");
                assertThat(condition(a.client(), "hello", "Conflict")).isEqualTo("False");

                // An export without a Service is not valid.
                exportOnly(a.client(), "ghost");
                await().atMost(WAIT).until(() -> condition(a.client(), "ghost", "Valid"), "False"::equals);
                assertThat(reason(a.client(), "ghost", "Valid")).isEqualTo("ServiceNotFound");

                // Scaling A's endpoints updates everyone.
                scale(a.client(), "10.1.0.5", "10.1.0.6");
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 2, WAIT);
                assertThat(admin.listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                        .filter(s -> s.getName().equals("hello")).findFirst().orElseThrow().getNetworksList())
                        .singleElement().satisfies(n -> assertThat(n.getEndpointsCount()).isEqualTo(2));

                // A second port, and B's gateway moving: the import follows (updates, not recreations).
                addPort(a.client(), 9090);
                await().atMost(WAIT).until(() -> b.client().services().inNamespace("demo").withName("mcs-hello").get()
                        .getSpec().getPorts().size() == 2);
                admin.createNetwork(CreateNetworkRequest.newBuilder().setName("net-b")
                        .setGatewayAddress("127.0.20.2:15443").build());
                await().atMost(WAIT).until(() -> slice(b.client()).getEndpoints().get(0).getAddresses().get(0),
                        "127.0.20.2"::equals);

                // The trust bundle ConfigMap is in both clusters and follows a bundle change.
                var configMap = await().atMost(WAIT).until(() -> b.client().configMaps().inNamespace("meshfed-system")
                        .withName("meshfed-trust-bundle").get(), c -> c != null);
                assertThat(configMap.getData()).containsKeys("bundle.pem", "cluster-a.acme.mesh.json",
                        "cluster-b.acme.mesh.json", "vms.acme.mesh.json");
                assertThat(configMap.getData().get("bundle.pem")).contains("BEGIN CERTIFICATE");
                admin.addMember(AddMemberRequest.newBuilder().setName("late").setType("vm").setNetwork("vm-net")
                        .build());
                await().atMost(WAIT).until(() -> a.client().configMaps().inNamespace("meshfed-system")
                        .withName("meshfed-trust-bundle").get().getData().containsKey("late.acme.mesh.json"));

                // Status: both clusters synced, A exports one service, B imports one.
                await().atMost(WAIT).untilAsserted(() -> assertThat(admin.status(ListRequest.getDefaultInstance())
                        .getClustersList()).extracting(ClusterState::getName, ClusterState::getState,
                                ClusterState::getExportedServices, ClusterState::getImportedServices)
                        .containsExactly(org.assertj.core.groups.Tuple.tuple("cluster-a", "synced", 1, 0),
                                org.assertj.core.groups.Tuple.tuple("cluster-b", "synced", 0, 1)));
                assertThat(federation.controller().store().revision()).isPositive();

                // Deleting the ServiceExport withdraws it everywhere.
                a.client().genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo").withName("hello").delete();
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").isEmpty(), WAIT);
                await().atMost(WAIT).until(() -> b.client().genericKubernetesResources(Mcs.SERVICE_IMPORT)
                        .inNamespace("demo").withName("hello").get() == null
                        && b.client().services().inNamespace("demo").withName("mcs-hello").get() == null
                        && b.client().discovery().v1().endpointSlices().inNamespace("demo")
                                .withName("mcs-hello-meshfed").get() == null);
            }

            // The connector used exactly the verbs its RBAC grants, no more, no fewer.
            Map<String, TreeSet<String>> used = new TreeMap<>(a.connectorVerbs());
            b.connectorVerbs().forEach((k, v) -> used.computeIfAbsent(k, x -> new TreeSet<>()).addAll(v));
            assertThat(used).isEqualTo(golden());
        }
    }

    @Test
    void theSameServiceExportedWithOtherPortsIsAConflictInBothClusters() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(30));
                MockCluster a = new MockCluster(); MockCluster b = new MockCluster()) {
            var admin = federation.admin();
            register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            register(admin, "cluster-b", "net-b", "127.0.20.1:15443", b);
            exportHello(a.client(), "10.1.0.5");
            await().atMost(WAIT).until(() -> condition(a.client(), "hello", "Conflict"), "False"::equals);

            b.client().services().inNamespace("demo").resource(new ServiceBuilder().withNewMetadata()
                    .withName("hello").withNamespace("demo").endMetadata().withNewSpec().addNewPort().withPort(80)
                    .withNewTargetPort(9090).endPort().endSpec().build()).create();
            b.client().discovery().v1().endpointSlices().inNamespace("demo").resource(new EndpointSliceBuilder()
                    .withNewMetadata().withName("hello-b").withNamespace("demo")
                    .addToLabels("kubernetes.io/service-name", "hello").endMetadata().withAddressType("IPv4")
                    .addNewEndpoint().withAddresses("10.2.0.5").endEndpoint().addNewPort().withPort(9090)
                    .withProtocol("TCP").endPort().build()).create();
            exportOnly(b.client(), "hello");

            for (MockCluster c : List.of(a, b)) {
                await().atMost(WAIT).until(() -> condition(c.client(), "hello", "Conflict"), "True"::equals);
                assertThat(reason(c.client(), "hello", "Conflict")).isEqualTo("PortConflict");
                assertThat(condition(c.client(), "hello", "Exported")).isEqualTo("True");
            }
        }
    }

    @Test
    void aClustersStatusNamesTheImportsOfItsNetworkThatGotNoListenPort() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, c -> c.withMemberPortQuota(1)
                .withOutboundPorts(new io.meshfed.controller.catalog.PortRange(20000, 20000)));
                MockCluster a = new MockCluster(); MockCluster b = new MockCluster()) {
            var admin = federation.admin();
            register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            register(admin, "cluster-b", "net-b", "127.0.20.1:15443", b);
            exportHello(a.client(), "10.1.0.5");
            addPort(a.client(), 9090); // two service ports for net-b, which has one listen port

            String error = await().atMost(WAIT).until(() -> admin.listClusters(ListRequest.getDefaultInstance())
                    .getClustersList().stream().filter(c -> c.getName().equals("cluster-b")).findFirst()
                    .orElseThrow().getLastError(), e -> e.contains("network net-b"));
            assertThat(error).isEqualTo("network net-b: 1 imported service ports got no outbound listen port, 1 beyond"
                    + " their member's quota (first: 9090.hello.demo)");
            assertThat(admin.listClusters(ListRequest.getDefaultInstance()).getClustersList().stream()
                    .filter(c -> c.getName().equals("cluster-a")).findFirst().orElseThrow().getLastError())
                    .as("net-a imports nothing").isEmpty();
            // The port it has is served: cluster B's derived EndpointSlice points at it.
            assertThat(await().atMost(WAIT).until(() -> listenPort(b.client()), p -> p > 0)).isEqualTo(20000);
        }
    }

    @Test
    void theRbacGrantsExactlyTheVerbsOfTheGoldenFile() throws Exception {
        Map<String, TreeSet<String>> granted = new TreeMap<>();
        try (InputStream in = getClass().getResourceAsStream("/io/meshfed/api/kubernetes/connector-rbac.yaml")) {
            for (Object o : io.meshfed.controller.testing.MockCluster.documents(in)) {
                var rules = o instanceof io.fabric8.kubernetes.api.model.rbac.ClusterRole c ? c.getRules()
                        : ((io.fabric8.kubernetes.api.model.rbac.Role) o).getRules();
                for (var rule : rules) {
                    for (String group : rule.getApiGroups()) {
                        for (String resource : rule.getResources()) {
                            granted.computeIfAbsent(group + "/" + resource, k -> new TreeSet<>())
                                    .addAll(rule.getVerbs());
                        }
                    }
                }
            }
        }
        assertThat(granted).isEqualTo(golden());
    }

    @Test
    void anUnreachableApiServerKeepsEndpointsForTheGracePeriodThenWithdrawsThemUntilItIsBack() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, Duration.ofSeconds(30), Duration.ofSeconds(3));
                MockCluster a = new MockCluster()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("vm-net").setGatewayAddress("127.0.30.1:15443")
                    .build());
            admin.addMember(AddMemberRequest.newBuilder().setName("vms").setType("vm").setNetwork("vm-net").build());
            register(admin, "cluster-a", "net-a", "127.0.10.1:15443", a);
            exportHello(a.client(), "10.1.0.5");
            try (TestSubscriber vm = new TestSubscriber(federation.channel(federation.memberSvid("vms.acme.mesh",
                    "/ns/demo/vm/vm-1")))) {
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").isPresent(), WAIT);
                await().atMost(WAIT).until(() -> state(admin), "synced"::equals);

                a.stop();
                await().atMost(WAIT).until(() -> state(admin), "stale"::equals);
                assertThat(remote(vm.latest(), "hello", "net-a")).as("kept while stale").isPresent();
                await().atMost(WAIT).until(() -> state(admin), "withdrawn"::equals);
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").isEmpty(), WAIT);
                String metrics = Http.get(federation, "/metrics").body();
                assertThat(metrics).containsPattern("meshfed_cluster_connected\\{cluster=\"cluster-a\"} 0")
                        .containsPattern("meshfed_cluster_events_total\\{cluster=\"cluster-a\",event=\"watch_error\"}"
                                + " [1-9]")
                        .containsPattern("meshfed_cluster_events_total\\{cluster=\"cluster-a\",event=\"resync\"} [1-9]");
                assertThat(admin.listClusters(ListRequest.getDefaultInstance()).getClusters(0).getLastError())
                        .isNotEmpty();

                a.restart();
                vm.awaitSnapshot(s -> remote(s, "hello", "net-a").map(NetworkEndpoints::getHealthyEndpoints)
                        .orElse(0) == 1, Duration.ofSeconds(60));
                await().atMost(WAIT).until(() -> state(admin), "synced"::equals);
                assertThat(Http.get(federation, "/metrics").body())
                        .containsPattern("meshfed_cluster_connected\\{cluster=\"cluster-a\"} 1");
                assertThat(admin.listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                        .filter(s -> s.getName().equals("hello")).findFirst().orElseThrow().getNetworks(0)
                        .getEndpointsCount()).as("no duplicates after the resync").isEqualTo(1);
            }
        }
    }

    private static String state(io.meshfed.api.v1.AdminServiceGrpc.AdminServiceBlockingStub admin) {
        return admin.listClusters(ListRequest.getDefaultInstance()).getClusters(0).getState();
    }

    static void register(io.meshfed.api.v1.AdminServiceGrpc.AdminServiceBlockingStub admin, String name,
            String network, String gateway, MockCluster cluster) {
        admin.registerCluster(RegisterClusterRequest.newBuilder().setName(name).setNetwork(network)
                .setGatewayAddress(gateway).setKubeconfig(cluster.kubeconfig("token-of-" + name)).build());
    }

    static void exportHello(KubernetesClient c, String... addresses) {
        c.services().inNamespace("demo").resource(new ServiceBuilder().withNewMetadata().withName("hello")
                .withNamespace("demo").endMetadata().withNewSpec().withType("ClusterIP").addNewPort().withName("http")
                .withPort(80).withNewTargetPort(8080).endPort().endSpec().build()).create();
        c.discovery().v1().endpointSlices().inNamespace("demo").resource(helloSlice(List.of(8080), addresses))
                .create();
        exportOnly(c, "hello");
    }

    static void exportOnly(KubernetesClient c, String name) {
        c.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo").resource(
                new GenericKubernetesResourceBuilder().withApiVersion("multicluster.x-k8s.io/v1alpha1")
                        .withKind("ServiceExport").withNewMetadata().withName(name).withNamespace("demo").endMetadata()
                        .build()).create();
    }

    private static EndpointSlice helloSlice(List<Integer> ports, String... addresses) {
        EndpointSliceBuilder b = new EndpointSliceBuilder().withNewMetadata().withName("hello-x1").withNamespace("demo")
                .addToLabels("kubernetes.io/service-name", "hello").endMetadata().withAddressType("IPv4");
        for (String address : addresses) {
            b.addNewEndpoint().withAddresses(address).withZone("zone-1").withNewConditions().withReady(true)
                    .endConditions().endEndpoint();
        }
        for (int port : ports) {
            b.addNewPort().withName("p" + port).withPort(port).withProtocol("TCP").endPort();
        }
        return b.build();
    }

    static void scale(KubernetesClient c, String... addresses) {
        c.discovery().v1().endpointSlices().inNamespace("demo").resource(helloSlice(List.of(8080), addresses)).update();
    }

    private static void addPort(KubernetesClient c, int port) {
        c.discovery().v1().endpointSlices().inNamespace("demo").resource(helloSlice(List.of(8080, port), "10.1.0.5",
                "10.1.0.6")).update();
    }


    private static EndpointSlice slice(KubernetesClient c) {
        return c.discovery().v1().endpointSlices().inNamespace("demo").withName("mcs-hello-meshfed").get();
    }

    private static int listenPort(KubernetesClient c) {
        EndpointSlice s = slice(c);
        return s == null || s.getEndpoints().isEmpty() ? 0 : s.getPorts().get(0).getPort();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> conditionMap(KubernetesClient c, String name, String type) {
        GenericKubernetesResource e = c.genericKubernetesResources(Mcs.SERVICE_EXPORT).inNamespace("demo")
                .withName(name).get();
        if (e == null || !(e.getAdditionalProperties().get("status") instanceof Map<?, ?> status)) {
            return Map.of();
        }
        return ((List<Map<String, Object>>) status.get("conditions")).stream()
                .filter(m -> type.equals(m.get("type"))).findFirst().orElse(Map.of());
    }

    private static String condition(KubernetesClient c, String name, String type) {
        return String.valueOf(conditionMap(c, name, type).get("status"));
    }

    private static String reason(KubernetesClient c, String name, String type) {
        return String.valueOf(conditionMap(c, name, type).get("reason"));
    }

    static Map<String, TreeSet<String>> golden() throws Exception {
        Map<String, TreeSet<String>> golden = new TreeMap<>();
        try (InputStream in = ClusterConnectorTest.class.getResourceAsStream("/connector-rbac.golden")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] kv = line.split(":", 2);
                golden.put(kv[0].trim(), new TreeSet<>(List.of(kv[1].trim().split("\\s+"))));
            }
        }
        return golden;
    }
}
