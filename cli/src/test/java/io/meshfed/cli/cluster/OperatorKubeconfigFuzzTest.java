package io.meshfed.cli.cluster;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshfed.cli.context.CliException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * {@code meshfed cluster join --kubeconfig FILE}: any file content loads to a client configuration or fails with a
 * {@link CliException} naming the file, within 1 s.
 */
class OperatorKubeconfigFuzzTest {
    static final String KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: "
            + "\"https://127.0.0.1:6443\"}}]\nusers: [{name: u, user: {token: t}}]\n"
            + "contexts: [{name: a, context: {cluster: a, user: u}}]\ncurrent-context: a\n";
    private static Path file;

    /** The file, and one valid read to load the YAML classes, outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        file = Files.createTempFile("kubeconfig", ".yaml");
        Files.writeString(file, KUBECONFIG);
        OperatorKubeconfig.load(file, null);
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void load(byte[] input) throws Exception {
        Files.write(file, input);
        try {
            OperatorKubeconfig.load(file, null);
        } catch (CliException refused) {
            // documented
        }
    }
}
