package io.meshfed.controller.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Points the Kubernetes client's own configuration (the {@code kubeconfig} system property, which it reads as it
 * would {@code KUBECONFIG}) at a mock API server, as a controller in a pod or beside a kubeconfig finds its cluster;
 * closing puts the property back and deletes the file.
 */
public final class KubeconfigProperty implements AutoCloseable {
    private static final String PROPERTY = "kubeconfig";
    private final Path file;
    private final String previous;

    private KubeconfigProperty(Path file, String previous) {
        this.file = file;
        this.previous = previous;
    }

    /** For {@code cluster}, with {@code namespace} as the context's namespace (null: none). */
    public static KubeconfigProperty pointAt(MockCluster cluster, String namespace) throws IOException {
        Path file = Files.createTempFile("kubeconfig", ".yaml");
        String kubeconfig = cluster.kubeconfig("controller-token");
        Files.writeString(file, namespace == null ? kubeconfig
                : kubeconfig.replace("    cluster: c\n", "    cluster: c\n    namespace: " + namespace + "\n"));
        return new KubeconfigProperty(file, System.setProperty(PROPERTY, file.toString()));
    }

    @Override
    public void close() throws IOException {
        if (previous == null) {
            System.clearProperty(PROPERTY);
        } else {
            System.setProperty(PROPERTY, previous);
        }
        Files.deleteIfExists(file);
    }
}
