package io.meshfed.cli.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code meshfed cluster join} applies to a member cluster, built as objects so that join, leave and
 * render-manifests agree. The CRDs and the connector's RBAC come from the api module, the contract the controller's
 * connector is tested against. Everything carries {@code app.kubernetes.io/managed-by: meshfed}.
 */
final class ClusterManifests {
    static final String NAMESPACE = "meshfed-system";
    static final String SERVICE_ACCOUNT = "meshfed-connector";
    static final String TOKEN_PREFIX = "meshfed-connector-token-";
    static final String TOKEN_LABEL = "meshfed.io/connector-token";
    static final String GATEWAY = "meshfed-gateway";
    static final String GATEWAY_JOIN_SECRET = "meshfed-gateway-join";
    static final String DEFAULT_GATEWAY_IMAGE = "meshfed/east-west-gateway:0.1.0";
    static final Map<String, String> MANAGED = Map.of("app.kubernetes.io/managed-by", "meshfed");

    private ClusterManifests() {}

    /** ServiceExport and ServiceImport (multicluster.x-k8s.io/v1alpha1). */
    static List<HasMetadata> crds() {
        return resource("/io/meshfed/api/kubernetes/multicluster-crds.yaml");
    }

    /** Namespace, ServiceAccount, ClusterRole and Role (the connector's verbs) and their bindings. */
    static List<HasMetadata> access() {
        List<HasMetadata> objects = new ArrayList<>();
        objects.add(new NamespaceBuilder().withMetadata(meta(null, NAMESPACE)).build());
        objects.add(new ServiceAccountBuilder().withMetadata(meta(NAMESPACE, SERVICE_ACCOUNT)).build());
        objects.addAll(resource("/io/meshfed/api/kubernetes/connector-rbac.yaml"));
        objects.add(new ClusterRoleBindingBuilder().withMetadata(meta(null, SERVICE_ACCOUNT)).withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(SERVICE_ACCOUNT)
                .endRoleRef().addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT)
                .withNamespace(NAMESPACE).endSubject().build());
        objects.add(new RoleBindingBuilder().withMetadata(meta(NAMESPACE, SERVICE_ACCOUNT)).withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(SERVICE_ACCOUNT).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(NAMESPACE)
                .endSubject().build());
        return objects;
    }

    /** A long-lived token for the connector's ServiceAccount, filled in by the cluster's token controller. */
    static Secret tokenSecret(String name) {
        ObjectMeta meta = meta(NAMESPACE, name);
        meta.getLabels().put(TOKEN_LABEL, "true");
        meta.setAnnotations(Map.of("kubernetes.io/service-account.name", SERVICE_ACCOUNT));
        return new SecretBuilder().withMetadata(meta).withType("kubernetes.io/service-account-token").build();
    }

    /**
     * The east-west gateway: its join token Secret, a volume for its identity, a Deployment (non-root, read-only
     * root filesystem, probes on 15021) and a LoadBalancer Service on 15443 (SNI) and 15008 (tunnels) for other
     * networks; TCP passes through, TLS ends at the gateway.
     */
    static List<HasMetadata> gateway(String cluster, String controller, String image, String joinToken) {
        Map<String, String> app = Map.of("app.kubernetes.io/name", GATEWAY);
        List<HasMetadata> objects = new ArrayList<>();
        objects.add(new SecretBuilder().withMetadata(meta(NAMESPACE, GATEWAY_JOIN_SECRET)).withType("Opaque")
                .withStringData(Map.of("token", joinToken)).build());
        objects.add(new PersistentVolumeClaimBuilder().withMetadata(meta(NAMESPACE, GATEWAY + "-state")).withNewSpec()
                .withAccessModes("ReadWriteOnce").withNewResources().withRequests(Map.of("storage",
                        new Quantity("64Mi"))).endResources().endSpec().build());
        ObjectMeta podMeta = new ObjectMetaBuilder().withLabels(app).build();
        objects.add(new DeploymentBuilder().withMetadata(meta(NAMESPACE, GATEWAY)).withNewSpec().withReplicas(1)
                .withNewStrategy().withType("Recreate").endStrategy()
                .withNewSelector().withMatchLabels(app).endSelector()
                .withNewTemplate().withMetadata(podMeta).withNewSpec().withAutomountServiceAccountToken(false)
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10001L).withFsGroup(10001L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                .addNewContainer().withName("gateway").withImage(image)
                .withArgs("--controller", controller, "--member", cluster, "--name", "gateway",
                        "--state-dir", "/var/lib/meshfed-gateway", "--listen", "0.0.0.0:15443",
                        "--http-listen", "0.0.0.0:15021", "--outbound-bind", "0.0.0.0")
                .addNewEnv().withName("MESHFED_JOIN_TOKEN").withNewValueFrom().withNewSecretKeyRef()
                .withName(GATEWAY_JOIN_SECRET).withKey("token").endSecretKeyRef().endValueFrom().endEnv()
                .addNewPort().withName("mtls").withContainerPort(15443).endPort()
                .addNewPort().withName("tunnel").withContainerPort(15008).endPort()
                .addNewPort().withName("http-probes").withContainerPort(15021).endPort()
                .withNewReadinessProbe().withNewHttpGet().withPath("/readyz").withPort(new IntOrString(15021))
                .endHttpGet().withPeriodSeconds(5).endReadinessProbe()
                .withNewLivenessProbe().withNewHttpGet().withPath("/healthz").withPort(new IntOrString(15021))
                .endHttpGet().withPeriodSeconds(10).endLivenessProbe()
                .withNewResources().withRequests(new java.util.TreeMap<>(Map.of("cpu", new Quantity("250m"), "memory", new Quantity("256Mi"))))
                .withLimits(Map.of("memory", new Quantity("512Mi"))).endResources()
                .withNewSecurityContext().withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .addNewVolumeMount().withName("state").withMountPath("/var/lib/meshfed-gateway").endVolumeMount()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                .endContainer()
                .addNewVolume().withName("state").withNewPersistentVolumeClaim().withClaimName(GATEWAY + "-state")
                .endPersistentVolumeClaim().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().endTemplate().endSpec().build());
        objects.add(new ServiceBuilder().withMetadata(meta(NAMESPACE, GATEWAY)).withNewSpec().withType("LoadBalancer")
                .withSelector(app).addNewPort().withName("mtls").withPort(15443).withNewTargetPort(15443).endPort()
                .addNewPort().withName("tunnel").withPort(15008).withNewTargetPort(15008).endPort()
                .endSpec().build());
        return objects;
    }

    static String yaml(List<HasMetadata> objects) {
        StringBuilder sb = new StringBuilder();
        for (HasMetadata o : objects) {
            sb.append(Serialization.asYaml(o).replaceFirst("^---\\n", "")).append("---\n");
        }
        return sb.toString();
    }

    static ObjectMeta meta(String namespace, String name) {
        return new ObjectMetaBuilder().withNamespace(namespace).withName(name)
                .withLabels(new java.util.LinkedHashMap<>(MANAGED)).build();
    }

    private static List<HasMetadata> resource(String path) {
        try (InputStream in = ClusterManifests.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the meshfed-api jar");
            }
            Object o = Serialization.unmarshal(in);
            List<HasMetadata> objects = new ArrayList<>();
            if (o instanceof KubernetesList l) {
                objects.addAll(l.getItems());
            } else if (o instanceof List<?> list) {
                list.forEach(x -> objects.add((HasMetadata) x));
            } else {
                objects.add((HasMetadata) o);
            }
            return objects;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
