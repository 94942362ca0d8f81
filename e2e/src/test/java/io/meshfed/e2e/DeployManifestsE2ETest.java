package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/: the Kubernetes manifests parse as Kubernetes objects; every workload has probes, resource requests, a
 * non-root user, a read-only root filesystem and no privilege escalation; every image is one kustomization.yaml
 * names; and each Dockerfile copies a jar and lib/ the build really produces.
 */
class DeployManifestsE2ETest {
    private static final Path DEPLOY = Processes.root().resolve("deploy");

    @Test
    void everyWorkloadIsProbedBoundedNonRootAndReadOnly() throws Exception {
        Map<String, Object> kustomization = Serialization.unmarshal(Files.readString(DEPLOY.resolve(
                "kubernetes/kustomization.yaml")), Map.class);
        @SuppressWarnings("unchecked")
        List<String> resources = (List<String>) kustomization.get("resources");
        @SuppressWarnings("unchecked")
        List<String> images = ((List<Map<String, String>>) kustomization.get("images")).stream()
                .map(i -> i.get("name")).toList();
        List<Deployment> deployments = new ArrayList<>();
        for (String file : resources) {
            for (HasMetadata o : objects(DEPLOY.resolve("kubernetes").resolve(file))) {
                assertThat(o.getMetadata().getNamespace() == null ? "meshfed-system" : o.getMetadata().getNamespace())
                        .as(file + ": " + o.getKind()).isEqualTo("meshfed-system");
                if (o instanceof Deployment d) {
                    deployments.add(d);
                }
            }
        }
        checkWorkloads(deployments, images);
    }

    /** Every workload: non-root, no token, read-only, no escalation, bounded, probed (and its image named). */
    private static void checkWorkloads(List<Deployment> deployments, List<String> images) {
        assertThat(deployments).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrder("meshfed-controller", "meshfed-gateway", "meshfed-edge");
        for (Deployment d : deployments) {
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(d.getMetadata().getName()).isTrue();
            assertThat(pod.getAutomountServiceAccountToken()).as(d.getMetadata().getName()).isFalse();
            List<Container> all = new ArrayList<>(pod.getContainers());
            all.addAll(pod.getInitContainers());
            for (Container c : all) {
                String what = d.getMetadata().getName() + "/" + c.getName();
                assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(what).isTrue();
                assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(what).isFalse();
                assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(what).containsExactly("ALL");
                assertThat(c.getResources().getRequests()).as(what).containsKeys("cpu", "memory");
                assertThat(c.getResources().getLimits()).as(what).containsKey("memory");
                if (images != null) {
                    assertThat(images).as(what).contains(c.getImage());
                }
            }
            for (Container c : pod.getContainers()) {
                assertThat(c.getReadinessProbe()).as(c.getName()).isNotNull();
                assertThat(c.getLivenessProbe()).as(c.getName()).isNotNull();
            }
        }
    }

    /**
     * deploy/kubernetes-ha, rendered by kubectl's own kustomize: three controller replicas on PostgreSQL behind a
     * PodDisruptionBudget that keeps two, replaced one at a time, told to joiners under one name that resolves to
     * every replica, the password from a Secret only, a shared data directory; every workload as safe as the base's.
     */
    @Test
    void theHighAvailabilityVariantRunsThreeReplicasOnPostgresqlBehindADisruptionBudget() throws Exception {
        io.meshfed.trust.testing.RequiredTool.require("kubectl", "kubernetes-client");
        Process render = new ProcessBuilder("kubectl", "kustomize", DEPLOY.resolve("kubernetes-ha").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String yaml = new String(render.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(render.waitFor()).as("kubectl kustomize deploy/kubernetes-ha").isZero();
        List<HasMetadata> all = new ArrayList<>();
        for (String doc : yaml.split("(?m)^---$")) {
            if (!doc.isBlank()) {
                all.add((HasMetadata) Serialization.unmarshal(doc));
            }
        }
        checkWorkloads(all.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).toList(), null);

        Deployment controller = named(all, Deployment.class, "meshfed-controller");
        Map<String, String> podLabels = controller.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(controller.getSpec().getReplicas()).isEqualTo(3);
        assertThat(controller.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        assertThat(controller.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(controller.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal()).isZero();
        var pdb = named(all, io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class,
                "meshfed-controller");
        assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(2);
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());

        io.fabric8.kubernetes.api.model.Service replicas = named(all, io.fabric8.kubernetes.api.model.Service.class,
                "meshfed-controller-replicas");
        assertThat(replicas.getSpec().getClusterIP()).as("headless: one A record per replica").isEqualTo("None");
        assertThat(podLabels).containsAllEntriesOf(replicas.getSpec().getSelector());
        String replicasAddress = "meshfed-controller-replicas.meshfed-system.svc:15012";
        Container main = controller.getSpec().getTemplate().getSpec().getContainers().get(0);
        List<String> args = main.getArgs();
        assertThat(args.get(args.indexOf("--advertise-address") + 1)).isEqualTo(replicasAddress);
        List<String> initArgs = controller.getSpec().getTemplate().getSpec().getInitContainers().get(0).getArgs();
        assertThat(initArgs.get(initArgs.indexOf("--controller") + 1)).isEqualTo(replicasAddress);
        String store = args.get(args.indexOf("--store") + 1);
        assertThat(store).startsWith("postgres://").doesNotContainIgnoringCase("password");
        assertThat(store.substring("postgres://".length(), store.indexOf('@'))).as("no password in the location")
                .doesNotContain(":");
        assertThat(main.getEnv()).filteredOn(e -> e.getName().equals("MESHFED_STORE_PASSWORD")).singleElement()
                .satisfies(e -> {
                    assertThat(e.getValue()).isNull();
                    assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("meshfed-controller-postgres");
                });
        assertThat(yaml).doesNotContain("kind: Secret");
        var data = named(all, io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class, "meshfed-controller-data");
        assertThat(data.getSpec().getAccessModes()).containsExactly("ReadWriteMany");

        // The leader is elected with a Kubernetes Lease that the manifest creates; the controller may read and
        // update that one Lease, nothing else, and only its main container holds a token.
        assertThat(args.get(args.indexOf("--leader-lease") + 1)).isEqualTo("kubernetes");
        named(all, io.fabric8.kubernetes.api.model.coordination.v1.Lease.class, "meshfed-controller-leader");
        var role = named(all, io.fabric8.kubernetes.api.model.rbac.Role.class, "meshfed-controller-leader");
        assertThat(role.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("coordination.k8s.io");
            assertThat(rule.getResources()).containsExactly("leases");
            assertThat(rule.getResourceNames()).containsExactly("meshfed-controller-leader");
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "update");
        });
        var binding = named(all, io.fabric8.kubernetes.api.model.rbac.RoleBinding.class, "meshfed-controller-leader");
        assertThat(binding.getRoleRef().getName()).isEqualTo("meshfed-controller-leader");
        assertThat(binding.getSubjects()).singleElement().satisfies(subject -> {
            assertThat(subject.getKind()).isEqualTo("ServiceAccount");
            assertThat(subject.getName()).isEqualTo(controller.getSpec().getTemplate().getSpec()
                    .getServiceAccountName());
        });
        assertThat(all).noneMatch(o -> o.getKind().startsWith("Cluster"));
        String tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount";
        assertThat(main.getVolumeMounts()).filteredOn(m -> m.getMountPath().equals(tokenPath)).singleElement()
                .satisfies(m -> {
                    assertThat(m.getReadOnly()).isTrue();
                    var volume = controller.getSpec().getTemplate().getSpec().getVolumes().stream()
                            .filter(v -> v.getName().equals(m.getName())).findFirst().orElseThrow();
                    assertThat(volume.getProjected().getSources()).anySatisfy(source ->
                            assertThat(source.getServiceAccountToken().getExpirationSeconds()).isEqualTo(3600L));
                });
        assertThat(controller.getSpec().getTemplate().getSpec().getInitContainers().get(0).getVolumeMounts())
                .noneMatch(m -> m.getMountPath().equals(tokenPath));
    }

    private static <T extends HasMetadata> T named(List<HasMetadata> objects, Class<T> kind, String name) {
        return objects.stream().filter(kind::isInstance).map(kind::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " " + name));
    }

    @Test
    void eachDockerfileCopiesWhatTheBuildProduces() throws Exception {
        Pattern copy = Pattern.compile("^COPY (\\S+) ", Pattern.MULTILINE);
        try (Stream<Path> files = Files.list(DEPLOY.resolve("docker"))) {
            List<Path> dockerfiles = files.map(d -> d.resolve("Dockerfile")).toList();
            assertThat(dockerfiles).hasSize(3);
            for (Path dockerfile : dockerfiles) {
                Matcher m = copy.matcher(Files.readString(dockerfile));
                int copies = 0;
                while (m.find()) {
                    copies++;
                    assertThat(Processes.root().resolve(m.group(1))).as(dockerfile + ": " + m.group(1)).exists();
                }
                assertThat(copies).as(dockerfile.toString()).isEqualTo(2);
                assertThat(Files.readString(dockerfile)).contains("USER 10001");
            }
        }
    }

    private static List<HasMetadata> objects(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            Object o = Serialization.unmarshal(in);
            if (o instanceof KubernetesList l) {
                return l.getItems();
            }
            return o instanceof List<?> list ? list.stream().map(HasMetadata.class::cast).toList()
                    : List.of((HasMetadata) o);
        }
    }
}
