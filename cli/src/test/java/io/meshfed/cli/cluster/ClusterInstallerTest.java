package io.meshfed.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.meshfed.cli.context.CliException;
import io.meshfed.controller.testing.MockCluster;
import io.meshfed.controller.testing.TokenController;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes side of {@code meshfed cluster join/leave} against fabric8's mock API server: idempotent applies,
 * the connector's token and scoped kubeconfig, roll-back, and one-line errors for a broken kubeconfig, an
 * unreachable API server and a forbidden request.
 */
class ClusterInstallerTest {
    @TempDir
    Path dir;

    @Test
    void joinObjectsApplyOnceThenAreUnchangedAndTheTokenComesFromTheTokenController() throws Exception {
        try (MockCluster cluster = MockCluster.withoutCrds(); TokenController tokens = new TokenController(
                cluster.client())) {
            KubernetesClient client = cluster.client();
            Path kubeconfig = kubeconfig(cluster.url(), "operator-secret-token");
            // The mock in CRUD mode needs no expectations.
            Config config = OperatorKubeconfig.load(kubeconfig, null);
            ClusterInstaller installer = new ClusterInstaller(client, config);

            assertThat(installer.apply(ClusterManifests.crds())).isEqualTo("2 created");
            assertThat(installer.apply(ClusterManifests.access())).isEqualTo("6 created");
            assertThat(installer.apply(ClusterManifests.crds())).isEqualTo("unchanged");
            assertThat(installer.apply(ClusterManifests.access())).isEqualTo("unchanged");
            ClusterRole role = client.rbac().clusterRoles().withName("meshfed-connector").get();
            assertThat(role.getRules()).extracting(r -> r.getResources().get(0))
                    .contains("services", "endpointslices", "serviceexports", "serviceexports/status", "serviceimports");
            assertThat(role.getRules()).allSatisfy(r -> assertThat(r.getVerbs()).doesNotContain("*", "patch"));

            Secret token = installer.connectorToken(false, Duration.ofSeconds(10));
            String scoped = installer.scopedKubeconfig("east", token);
            assertThat(scoped).contains("token: sa-token-1").contains("server: " + cluster.url())
                    .contains("certificate-authority-data: " + token.getData().get("ca.crt"))
                    .doesNotContain("operator-secret-token");
            assertThat(Config.fromKubeconfig(scoped).getAutoOAuthToken()).isEqualTo("sa-token-1");
            assertThat(installer.connectorToken(false, Duration.ofSeconds(10)).getMetadata().getName())
                    .as("a join run again reuses the token").isEqualTo(token.getMetadata().getName());
        }
    }

    @Test
    void aFailedStepRollsBackWhatThisRunCreated() throws Exception {
        try (MockCluster cluster = MockCluster.withoutCrds()) {
            KubernetesClient client = cluster.client();
            ClusterInstaller installer = new ClusterInstaller(client,
                    OperatorKubeconfig.load(kubeconfig(cluster.url(), "t"), null));
            installer.apply(ClusterManifests.crds());
            installer.apply(ClusterManifests.access());

            assertThatThrownBy(() -> installer.connectorToken(false, Duration.ofMillis(500)))
                    .hasMessageContaining("the token controller did not fill in secret meshfed-system/");
            assertThat(installer.rollBack()).as("2 CRDs, 6 access objects, the token secret").isEqualTo(9);
            assertThat(client.namespaces().withName("meshfed-system").get()).isNull();
            assertThat(client.rbac().clusterRoles().withName("meshfed-connector").get()).isNull();
            assertThat(client.apiextensions().v1().customResourceDefinitions().list().getItems()).isEmpty();
        }
    }

    @Test
    void aForbiddenRequestNamesTheVerbAndTheObject() throws Exception {
        KubernetesMockServer server = new KubernetesMockServer(false); // expectations mode
        server.init(InetAddress.getByName("127.0.0.1"), 0);
        server.expect().get().withPath("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                + "serviceexports.multicluster.x-k8s.io").andReturn(404, new StatusBuilder().withCode(404).build())
                .always();
        server.expect().post().withPath("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").andReturn(403,
                new StatusBuilder().withCode(403).withReason("Forbidden").withMessage("customresourcedefinitions is"
                        + " forbidden: User \"dev\" cannot create resource").build()).always();
        try (KubernetesClient client = server.createClient()) {
            ClusterInstaller installer = new ClusterInstaller(client,
                    OperatorKubeconfig.load(kubeconfig("http://127.0.0.1:" + server.getPort(), "t"), null));

            assertThatThrownBy(() -> installer.apply(ClusterManifests.crds())).isInstanceOf(CliException.class)
                    .hasMessageStartingWith("forbidden: the kubeconfig's user may not create customresourcedefinition"
                            + " serviceexports.multicluster.x-k8s.io")
                    .hasMessageContaining("join needs cluster-admin once").hasMessageContaining("User \"dev\"");
        } finally {
            server.destroy();
        }
    }

    @Test
    void anUnreachableApiServerIsOneLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        Config config = OperatorKubeconfig.load(kubeconfig("http://127.0.0.1:" + port, "t"), null);
        try (KubernetesClient client = ClusterCommand.ClusterStep.client(config)) {
            assertThatThrownBy(() -> new ClusterInstaller(client, config).version()).isInstanceOf(CliException.class)
                    .hasMessageStartingWith("cannot reach the API server http://127.0.0.1:" + port)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    @Test
    void brokenKubeconfigsNameTheFileAndTheProblem() throws Exception {
        assertThatThrownBy(() -> OperatorKubeconfig.load(dir.resolve("nope.yaml"), null))
                .hasMessage("kubeconfig " + dir.resolve("nope.yaml") + ": no such file");
        Path garbage = Files.writeString(dir.resolve("garbage.yaml"), "clusters: [this is: not: yaml");
        assertThatThrownBy(() -> OperatorKubeconfig.load(garbage, null))
                .hasMessageStartingWith("kubeconfig " + garbage + " is not a valid kubeconfig");
        Path good = kubeconfig("https://10.0.0.1:6443", "t");
        assertThatThrownBy(() -> OperatorKubeconfig.load(good, "prod"))
                .hasMessage("kubeconfig " + good + " has no context 'prod' (it has ctx)");
        Path empty = Files.writeString(dir.resolve("empty.yaml"), "apiVersion: v1\nkind: Config\n");
        assertThatThrownBy(() -> OperatorKubeconfig.load(empty, null)).hasMessage("kubeconfig " + empty
                + " has no contexts");
    }

    @Test
    void renderedManifestsAreTheObjectsJoinApplies() {
        io.meshfed.cli.CliRunnerAccess.Result r = io.meshfed.cli.CliRunnerAccess.run("cluster", "render-manifests",
                "east", "--install-gateway", "--gateway-image", "registry.example.com/meshfed/gateway:1.2");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        Object parsed = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
                new java.io.ByteArrayInputStream(r.out().getBytes()));
        List<HasMetadata> objects = parsed instanceof io.fabric8.kubernetes.api.model.KubernetesList l ? l.getItems()
                : ((List<?>) parsed).stream().map(HasMetadata.class::cast).toList();
        assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).containsExactly(
                "CustomResourceDefinition/serviceexports.multicluster.x-k8s.io",
                "CustomResourceDefinition/serviceimports.multicluster.x-k8s.io",
                "Namespace/meshfed-system", "ServiceAccount/meshfed-connector", "ClusterRole/meshfed-connector",
                "Role/meshfed-connector", "ClusterRoleBinding/meshfed-connector", "RoleBinding/meshfed-connector",
                "Secret/meshfed-connector-token-1", "PersistentVolumeClaim/meshfed-gateway-state",
                "Deployment/meshfed-gateway", "Service/meshfed-gateway");
        assertThat(r.out()).contains("image: \"registry.example.com/meshfed/gateway:1.2\"")
                .contains("type: \"LoadBalancer\"").contains("port: 15443").contains("port: 15008")
                .contains("readOnlyRootFilesystem: true")
                .contains("runAsNonRoot: true").contains("create secret generic meshfed-gateway-join");
        // the same input renders the same text on every run (a diff of two renders shows only real changes)
        assertThat(r.out().indexOf("cpu: \"250m\"")).isPositive().isLessThan(r.out().indexOf("memory: \"256Mi\""));
    }

    private Path kubeconfig(String server, String token) throws Exception {
        return Files.writeString(dir.resolve("kubeconfig-" + System.nanoTime()), "apiVersion: v1\nkind: Config\n"
                + "clusters:\n- name: c\n  cluster:\n    server: " + server + "\nusers:\n- name: u\n  user:\n    token: "
                + token + "\ncontexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\ncurrent-context: ctx\n");
    }
}
