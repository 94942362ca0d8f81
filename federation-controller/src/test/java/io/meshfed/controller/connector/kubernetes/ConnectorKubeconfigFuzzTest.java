package io.meshfed.controller.connector.kubernetes;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.fabric8.kubernetes.client.Config;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster's connector kubeconfig arrives in an admin request ({@code RegisterCluster}). Registration reads it as
 * {@link ClusterOperations#register} does: inline credentials only ({@link ConnectorKubeconfig}), then fabric8; a
 * RuntimeException is "cannot be read" (INVALID_ARGUMENT), and one without an API server is refused. What it accepts, the connector must then turn into its client configuration
 * ({@link ClusterConnector#connectorConfig}) without failing. Anything else, or over 1 s, is a bug.
 */
class ConnectorKubeconfigFuzzTest {
    private static final String KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: "
            + "\"https://127.0.0.1:6443\"}}]\nusers: [{name: u, user: {token: t}}]\n"
            + "contexts: [{name: a, context: {cluster: a, user: u}}]\ncurrent-context: a\n";

    /** One valid input first, to load the classes outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        ClusterConnector.connectorConfig(KUBECONFIG);
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void register(byte[] input) {
        String kubeconfig = new String(input, StandardCharsets.UTF_8);
        if (kubeconfig.isBlank()) {
            return; // refused before parsing
        }
        Config config;
        try {
            ConnectorKubeconfig.checkInline(kubeconfig);
            config = Config.fromKubeconfig(kubeconfig);
        } catch (RuntimeException cannotBeRead) {
            return;
        }
        if (config.getMasterUrl() == null || config.getMasterUrl().isBlank()) {
            return;
        }
        ClusterConnector.connectorConfig(kubeconfig);
    }
}
