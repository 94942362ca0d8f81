package io.meshfed.controller;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * {@code meshfed controller --config FILE}: any file content becomes a configuration or fails with a
 * {@link ControllerConfig.ConfigException} naming the setting and its source, within 1 s.
 */
class ControllerConfigFuzzTest {
    private static Path file;

    /** The file, and one valid read to load the YAML classes, outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        file = Files.createTempFile("controller", ".yaml");
        Files.writeString(file, "listen: 127.0.0.1:15012\nsvidMaxTtlByTrustDomain: {east.acme.mesh: 2h}\n");
        new ControllerConfig.Builder().yaml(file).build();
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void yaml(byte[] input) throws Exception {
        Files.write(file, input);
        try {
            new ControllerConfig.Builder().yaml(file).build();
        } catch (ControllerConfig.ConfigException refused) {
            // documented
        }
    }
}
