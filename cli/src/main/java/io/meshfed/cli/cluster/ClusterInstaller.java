package io.meshfed.cli.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.meshfed.cli.context.CliException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Applies and removes what a member cluster needs, with the operator's credentials. Each object is created when
 * absent, updated when it differs and left alone otherwise, so join can run again; objects this run created are
 * deleted again when a later step fails, so a failed join leaves nothing half-made. Kubernetes errors become one
 * line that names the object and the verb.
 */
final class ClusterInstaller {
    private final KubernetesClient client;
    private final Config config;
    private final List<HasMetadata> createdThisRun = new ArrayList<>();

    ClusterInstaller(KubernetesClient client, Config config) {
        this.client = client;
        this.config = config;
    }

    /** The API server's version, or a clear error when it cannot be reached or refuses the credentials. */
    String version() {
        try {
            var v = client.getKubernetesVersion();
            return v.getGitVersion() != null ? v.getGitVersion() : v.getMajor() + "." + v.getMinor();
        } catch (KubernetesClientException e) {
            throw explain(e, "get", "/version");
        }
    }

    /** Applies each object; returns "created", "updated" or "unchanged" for the set. */
    String apply(List<HasMetadata> objects) {
        int created = 0;
        int updated = 0;
        for (HasMetadata o : objects) {
            switch (applyOne(o)) {
                case "created" -> created++;
                case "updated" -> updated++;
                default -> { }
            }
        }
        if (created == 0 && updated == 0) {
            return "unchanged";
        }
        return (created > 0 ? created + " created" : "") + (created > 0 && updated > 0 ? ", " : "")
                + (updated > 0 ? updated + " updated" : "");
    }

    private String applyOne(HasMetadata o) {
        String verb = "get";
        try {
            HasMetadata current = client.resource(o).get();
            if (current == null) {
                verb = "create";
                client.resource(o).create();
                createdThisRun.add(o);
                return "created";
            }
            if (sameContent(current, o)) {
                return "unchanged";
            }
            verb = "update";
            o.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
            client.resource(o).update();
            return "updated";
        } catch (KubernetesClientException e) {
            throw explain(e, verb, describe(o));
        }
    }

    /** Whether everything but metadata and status (server-filled) is the same. */
    private static boolean sameContent(HasMetadata current, HasMetadata desired) {
        Map<String, Object> a = content(current);
        Map<String, Object> b = content(desired);
        return Objects.equals(a, b) && Objects.equals(current.getMetadata().getLabels(),
                desired.getMetadata().getLabels());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> content(HasMetadata o) {
        Map<String, Object> m = Serialization.jsonMapper().convertValue(o, Map.class);
        m.remove("metadata");
        m.remove("status");
        return m;
    }

    /** The connector's token: an existing filled-in token Secret, else a new one, waiting for the token controller. */
    Secret connectorToken(boolean fresh, Duration timeout) {
        if (!fresh) {
            for (Secret s : tokenSecrets()) {
                if (s.getData() != null && s.getData().get("token") != null) {
                    return s;
                }
            }
        }
        String name = ClusterManifests.TOKEN_PREFIX + System.currentTimeMillis();
        Secret secret = ClusterManifests.tokenSecret(name);
        applyOne(secret);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Secret s;
            try {
                s = client.secrets().inNamespace(ClusterManifests.NAMESPACE).withName(name).get();
            } catch (KubernetesClientException e) {
                throw explain(e, "get", "secret " + ClusterManifests.NAMESPACE + "/" + name);
            }
            if (s != null && s.getData() != null && s.getData().get("token") != null) {
                return s;
            }
            sleep(250);
        }
        throw new CliException("the token controller did not fill in secret " + ClusterManifests.NAMESPACE + "/"
                + name + " within " + timeout.toSeconds() + " s (is kube-controller-manager running?)");
    }

    /** The connector's token Secrets, newest first. */
    List<Secret> tokenSecrets() {
        try {
            List<Secret> all = new ArrayList<>(client.secrets().inNamespace(ClusterManifests.NAMESPACE)
                    .withLabel(ClusterManifests.TOKEN_LABEL, "true").list().getItems());
            all.sort(Comparator.comparing((Secret s) -> s.getMetadata().getName()).reversed());
            return all;
        } catch (KubernetesClientException e) {
            throw explain(e, "list", "secrets in " + ClusterManifests.NAMESPACE);
        }
    }

    void deleteSecret(Secret s) {
        try {
            client.secrets().inNamespace(ClusterManifests.NAMESPACE).withName(s.getMetadata().getName()).delete();
        } catch (KubernetesClientException e) {
            throw explain(e, "delete", "secret " + ClusterManifests.NAMESPACE + "/" + s.getMetadata().getName());
        }
    }

    /**
     * A kubeconfig for the connector: the operator's API server and CA, the connector's token, nothing of the
     * operator's own credentials.
     */
    String scopedKubeconfig(String cluster, Secret token) {
        String ca = null;
        try {
            if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
                ca = config.getCaCertData();
            } else if (config.getCaCertFile() != null && !config.getCaCertFile().isBlank()) {
                ca = Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(config.getCaCertFile())));
            } else if (token.getData().get("ca.crt") != null) {
                ca = token.getData().get("ca.crt");
            }
        } catch (java.io.IOException e) {
            throw new CliException("cannot read the cluster CA " + config.getCaCertFile() + ": " + e.getMessage());
        }
        String bearer = new String(Base64.getDecoder().decode(token.getData().get("token")), StandardCharsets.UTF_8);
        StringBuilder y = new StringBuilder();
        y.append("apiVersion: v1\nkind: Config\nclusters:\n- name: ").append(cluster).append("\n  cluster:\n")
                .append("    server: ").append(config.getMasterUrl().replaceAll("/$", "")).append('\n');
        if (ca != null) {
            y.append("    certificate-authority-data: ").append(ca).append('\n');
        } else if (config.isTrustCerts()) {
            y.append("    insecure-skip-tls-verify: true\n");
        }
        y.append("users:\n- name: ").append(ClusterManifests.SERVICE_ACCOUNT).append("\n  user:\n    token: ")
                .append(bearer).append('\n')
                .append("contexts:\n- name: ").append(cluster).append("\n  context:\n    cluster: ").append(cluster)
                .append("\n    user: ").append(ClusterManifests.SERVICE_ACCOUNT).append('\n')
                .append("current-context: ").append(cluster).append('\n');
        return y.toString();
    }

    /** Deletes what this run created, newest first (after a failed step); returns how many. */
    int rollBack() {
        int n = 0;
        for (int i = createdThisRun.size() - 1; i >= 0; i--) {
            try {
                client.resource(createdThisRun.get(i)).delete();
                n++;
            } catch (KubernetesClientException ignored) {
                // best effort: the error that caused the roll-back is the one to report
            }
        }
        createdThisRun.clear();
        return n;
    }

    /** Deletes the listed objects that exist; returns how many were there. */
    int delete(List<HasMetadata> objects) {
        int n = 0;
        for (HasMetadata o : objects) {
            try {
                if (client.resource(o).get() != null) {
                    client.resource(o).delete();
                    n++;
                }
            } catch (KubernetesClientException e) {
                throw explain(e, "delete", describe(o));
            }
        }
        return n;
    }

    /** Deletes the objects the controller's connector made for this cluster (imports), in every namespace. */
    int deleteConnectorObjects(String cluster, List<ResourceDefinitionContext> genericKinds) {
        int n = 0;
        try {
            for (var s : client.services().inAnyNamespace().withLabel("meshfed.io/cluster", cluster).list().getItems()) {
                client.resource(s).delete();
                n++;
            }
            for (var s : client.discovery().v1().endpointSlices().inAnyNamespace()
                    .withLabel("meshfed.io/cluster", cluster).list().getItems()) {
                client.resource(s).delete();
                n++;
            }
            for (ResourceDefinitionContext kind : genericKinds) {
                for (var r : client.genericKubernetesResources(kind).inAnyNamespace()
                        .withLabel("meshfed.io/cluster", cluster).list().getItems()) {
                    client.genericKubernetesResources(kind).inNamespace(r.getMetadata().getNamespace())
                            .withName(r.getMetadata().getName()).delete();
                    n++;
                }
            }
            var bundle = client.configMaps().inNamespace(ClusterManifests.NAMESPACE).withName("meshfed-trust-bundle");
            if (bundle.get() != null) {
                bundle.delete();
                n++;
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return n; // the MCS CRDs are gone already
            }
            throw explain(e, "delete", "the connector's imports");
        }
        return n;
    }

    static String describe(HasMetadata o) {
        String ns = o.getMetadata().getNamespace();
        return o.getKind().toLowerCase(java.util.Locale.ROOT) + " " + (ns == null ? "" : ns + "/")
                + o.getMetadata().getName();
    }

    /** One line: unreachable, unauthorized or forbidden, naming what was attempted. */
    CliException explain(KubernetesClientException e, String verb, String what) {
        String server = config.getMasterUrl().replaceAll("/$", "");
        if (e.getStatus() == null && causedByIo(e)) {
            return new CliException("cannot reach the API server " + server + ": connection failed ("
                    + OperatorKubeconfig.firstLine(e) + ")");
        }
        if (e.getCode() == 403) {
            return new CliException("forbidden: the kubeconfig's user may not " + verb + " " + what + " on " + server
                    + "; join needs cluster-admin once (" + (e.getStatus() != null ? e.getStatus().getMessage()
                            : OperatorKubeconfig.firstLine(e)) + ")");
        }
        if (e.getCode() == 401) {
            return new CliException("unauthorized: " + server + " refused the kubeconfig's credentials");
        }
        if (e.getCode() == 0 || e.getCode() >= 500 && e.getStatus() == null) {
            return new CliException("cannot reach the API server " + server + ": " + OperatorKubeconfig.firstLine(e));
        }
        return new CliException("cannot " + verb + " " + what + " on " + server + ": "
                + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                        : OperatorKubeconfig.firstLine(e)));
    }

    private static boolean causedByIo(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }
}
