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
                assertThat(images).as(what).contains(c.getImage());
            }
            for (Container c : pod.getContainers()) {
                assertThat(c.getReadinessProbe()).as(c.getName()).isNotNull();
                assertThat(c.getLivenessProbe()).as(c.getName()).isNotNull();
            }
        }
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
