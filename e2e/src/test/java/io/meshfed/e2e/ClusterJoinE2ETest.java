package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TokenController;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's path for Kubernetes members with real processes: a controller, and {@code meshfed cluster}
 * commands run as the operator would, against two API servers (fabric8's mock, with a stand-in for the token
 * controller). Join is idempotent, the connector syncs with the scoped credentials join handed over, an export in
 * one cluster is imported by the other, credentials rotate without a gap, and leave removes everything.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterJoinE2ETest {
    private static final String CONTROLLER_JAR = "federation-controller/target/meshfed-controller.jar";
    private static final String CLI_JAR = "cli/target/meshfed-cli.jar";
    private static final ResourceDefinitionContext SERVICE_EXPORT = new ResourceDefinitionContext.Builder()
            .withGroup("multicluster.x-k8s.io").withVersion("v1alpha1").withKind("ServiceExport")
            .withPlural("serviceexports").withNamespaced(true).build();
    private static final ResourceDefinitionContext SERVICE_IMPORT = new ResourceDefinitionContext.Builder()
            .withGroup("multicluster.x-k8s.io").withVersion("v1alpha1").withKind("ServiceImport")
            .withPlural("serviceimports").withNamespaced(true).build();

    @TempDir
    static Path work;

    private Map<String, String> env;
    private Component controller;
    private MockCluster east;
    private MockCluster west;
    private TokenController eastTokens;
    private TokenController westTokens;
    private Path eastKubeconfig;
    private Path westKubeconfig;

    @BeforeAll
    void start() throws Exception {
        Path logs = Files.createDirectories(work.resolve("logs"));
        env = Map.of("MESHFED_HOME", work.resolve("home").toString());
        int grpc = Processes.freePort();
        int http = Processes.freePort();
        Processes.Result init = java(CONTROLLER_JAR, "init", "--controller", "127.0.0.1:" + grpc, "--data-dir",
                work.resolve("controller").toString(), "--trust-domain", "acme.mesh");
        assertThat(init.exitCode()).as(init.toString()).isZero();
        controller = Component.java(logs, "controller", CONTROLLER_JAR, Map.of("MESHFED_HOME",
                work.resolve("home").toString(), "MESHFED_CLUSTER_STALE_GRACE", "1m"), "--data-dir",
                work.resolve("controller").toString(), "--listen", "127.0.0.1:" + grpc, "--http-listen",
                "127.0.0.1:" + http).start("meshfed controller ready");
        east = MockCluster.withoutCrds();
        west = MockCluster.withoutCrds();
        eastTokens = new TokenController(east.client());
        westTokens = new TokenController(west.client());
        eastKubeconfig = Files.writeString(work.resolve("east.kubeconfig"), east.kubeconfig("operator-admin-token"));
        westKubeconfig = Files.writeString(work.resolve("west.kubeconfig"), west.kubeconfig("operator-admin-token"));
    }

    @AfterAll
    void stop() throws Exception {
        eastTokens.close();
        westTokens.close();
        east.close();
        west.close();
        controller.stop();
    }

    private Processes.Result java(String jar, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", Processes.root().resolve(jar).toString()));
        command.addAll(List.of(args));
        return Processes.run(work, Duration.ofMinutes(2), command, env);
    }

    private Processes.Result meshfed(String... args) throws Exception {
        return java(CLI_JAR, args);
    }

    @Test
    @Order(1)
    void joinShowsEachStepAndTheConnectorSyncsWithTheScopedCredentials() throws Exception {
        Processes.Result join = meshfed("cluster", "join", "east-k8s", "--kubeconfig", eastKubeconfig.toString(),
                "--network", "east", "--gateway-address", "127.0.1.1:15443");

        assertThat(join.exitCode()).as(join.toString()).isZero();
        assertThat(join.stdout()).contains("[1/6] kubeconfig east.kubeconfig (ctx)")
                .contains("[2/6] API server").contains("reachable")
                .containsPattern("\\[3/6\\] Multi-Cluster Services CRDs +2 created")
                .containsPattern("\\[4/6\\] namespace, ServiceAccount, RBAC \\(meshfed-system\\) +6 created")
                .contains("[5/6] connector token").contains("secret meshfed-connector-token-")
                .contains("[6/6] controller: member east-k8s (east-k8s.acme.mesh)")
                .contains("registered, credentials generation 1, gateway 127.0.1.1:15443");
        assertThat(join.stdout() + join.stderr()).doesNotContain("operator-admin-token");
        await().atMost(Duration.ofSeconds(60)).until(() -> clusterLine("east-k8s").contains(" synced "));

        Processes.Result again = meshfed("cluster", "join", "east-k8s", "--kubeconfig", eastKubeconfig.toString(),
                "--network", "east", "--gateway-address", "127.0.1.1:15443");
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.stdout()).containsPattern("\\[3/6\\] Multi-Cluster Services CRDs +unchanged")
                .containsPattern("\\[4/6\\] namespace, ServiceAccount, RBAC \\(meshfed-system\\) +unchanged")
                .contains("credentials generation 1");
        assertThat(east.client().secrets().inNamespace("meshfed-system").list().getItems()).hasSize(1);
    }

    @Test
    @Order(2)
    void anExportInEastIsImportedByWest() throws Exception {
        Processes.Result join = meshfed("cluster", "join", "west-k8s", "--kubeconfig", westKubeconfig.toString(),
                "--network", "west", "--gateway-address", "127.0.2.1:15443", "--tunnel-address", "127.0.2.1:15008");
        assertThat(join.exitCode()).as(join.toString()).isZero();
        assertThat(join.stdout()).contains("gateway 127.0.2.1:15443, tunnel 127.0.2.1:15008");
        assertThat(meshfed("network", "list").stdout()).containsPattern("(?m)^west +.*127\\.0\\.2\\.1:15008");
        export(east.client());

        await().atMost(Duration.ofSeconds(60)).until(() -> west.client().genericKubernetesResources(SERVICE_IMPORT)
                .inNamespace("demo").withName("hello").get() != null);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(west.client().discovery().v1()
                .endpointSlices().inNamespace("demo").withName("mcs-hello-meshfed").get().getEndpoints().get(0)
                .getAddresses()).containsExactly("127.0.2.1"));
        await().atMost(Duration.ofSeconds(30)).until(() -> clusterLine("east-k8s").matches(".* synced .* 1 +0 .*"));
        Processes.Result status = meshfed("status");
        assertThat(status.stdout()).contains("CLUSTER").contains("east-k8s").contains("west-k8s");
    }

    @Test
    @Order(3)
    void rotatingCredentialsSwitchesTheConnectorThenDeletesTheOldToken() throws Exception {
        String before = east.client().secrets().inNamespace("meshfed-system").list().getItems().get(0).getMetadata()
                .getName();

        Processes.Result rotate = meshfed("cluster", "rotate-credentials", "east-k8s", "--kubeconfig",
                eastKubeconfig.toString());

        assertThat(rotate.exitCode()).as(rotate.toString()).isZero();
        assertThat(rotate.stdout()).contains("credentials generation 2").contains("connector synced with the new token")
                .contains("old tokens").contains("1 deleted");
        assertThat(east.client().secrets().inNamespace("meshfed-system").list().getItems())
                .extracting(s -> s.getMetadata().getName()).hasSize(1).doesNotContain(before);
        // The import in west never went away during the rotation.
        assertThat(west.client().genericKubernetesResources(SERVICE_IMPORT).inNamespace("demo").withName("hello")
                .get()).isNotNull();
    }

    @Test
    @Order(4)
    void leaveRemovesEverythingJoinCreatedAndIsIdempotent() throws Exception {
        Processes.Result leave = meshfed("cluster", "leave", "east-k8s", "--kubeconfig", eastKubeconfig.toString());

        assertThat(leave.exitCode()).as(leave.toString()).isZero();
        assertThat(leave.stdout()).contains("removed (endpoints withdrawn, credentials deleted)")
                .contains("kept (--remove-crds deletes them)");
        assertThat(east.client().namespaces().withName("meshfed-system").get()).isNull();
        assertThat(east.client().rbac().clusterRoles().withName("meshfed-connector").get()).isNull();
        assertThat(east.client().rbac().clusterRoleBindings().withName("meshfed-connector").get()).isNull();
        assertThat(east.client().secrets().inNamespace("meshfed-system").list().getItems()).isEmpty();
        assertThat(meshfed("cluster", "list").stdout()).doesNotContain("east-k8s");
        // West's import of east's service is withdrawn.
        await().atMost(Duration.ofSeconds(30)).until(() -> west.client().genericKubernetesResources(SERVICE_IMPORT)
                .inNamespace("demo").withName("hello").get() == null);

        Processes.Result again = meshfed("cluster", "leave", "east-k8s", "--kubeconfig", eastKubeconfig.toString());
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.stdout()).contains("not registered");
    }

    @Test
    @Order(5)
    void badInputIsOneLineAndChangesNothing() throws Exception {
        Processes.Result tunnelAlone = meshfed("cluster", "join", "x", "--kubeconfig", eastKubeconfig.toString(),
                "--network", "x", "--tunnel-address", "127.0.9.1:15008");
        assertThat(tunnelAlone.exitCode()).isNotZero();
        assertThat(tunnelAlone.stderr()).contains("--tunnel-address needs --gateway-address beside it");
        Processes.Result missing = meshfed("cluster", "join", "x", "--kubeconfig", work.resolve("nope").toString(),
                "--network", "east");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr().strip()).isEqualTo("meshfed: kubeconfig " + work.resolve("nope") + ": no such file");

        Path unreachable = Files.writeString(work.resolve("down.kubeconfig"), east.kubeconfig("t")
                .replace(east.url(), "http://127.0.0.1:" + Processes.freePort()));
        Processes.Result down = meshfed("cluster", "join", "x", "--kubeconfig", unreachable.toString(), "--network",
                "east");
        assertThat(down.exitCode()).isEqualTo(1);
        assertThat(down.stderr()).startsWith("meshfed: cannot reach the API server http://127.0.0.1:");
        assertThat(down.stderr().strip().lines()).hasSize(1);
        assertThat(meshfed("cluster", "list").stdout()).doesNotContain(" x ");
    }

    private String clusterLine(String name) throws Exception {
        return meshfed("cluster", "list").stdout().lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .orElse("");
    }

    private static void export(KubernetesClient c) {
        c.services().inNamespace("demo").resource(new ServiceBuilder().withNewMetadata().withName("hello")
                .withNamespace("demo").endMetadata().withNewSpec().addNewPort().withPort(80).withNewTargetPort(8080)
                .endPort().endSpec().build()).create();
        c.discovery().v1().endpointSlices().inNamespace("demo").resource(new EndpointSliceBuilder().withNewMetadata()
                .withName("hello-1").withNamespace("demo").addToLabels("kubernetes.io/service-name", "hello")
                .endMetadata().withAddressType("IPv4").addNewEndpoint().withAddresses("10.1.0.5").endEndpoint()
                .addNewPort().withPort(8080).withProtocol("TCP").endPort().build()).create();
        c.genericKubernetesResources(SERVICE_EXPORT).inNamespace("demo").resource(new GenericKubernetesResourceBuilder()
                .withApiVersion("multicluster.x-k8s.io/v1alpha1").withKind("ServiceExport").withNewMetadata()
                .withName("hello").withNamespace("demo").endMetadata().build()).create();
    }
}
