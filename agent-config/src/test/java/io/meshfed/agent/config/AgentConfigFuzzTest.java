package io.meshfed.agent.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * {@code agent.yaml} is written by operators and configuration management. Any file content loads to a
 * configuration or fails with an {@link AgentConfig.ConfigException} naming the file and key, within 1 s; and a
 * configuration that loads, written by {@link AgentConfigWriter} (as the quickstart writes its agents' files), loads
 * back equal.
 */
class AgentConfigFuzzTest {
    private static Path file;

    /** The file, and one valid read to load the YAML classes, outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        file = Files.createTempFile("agent", ".yaml");
        Files.writeString(file, "member: west\nname: vm-1\naddress: 127.0.0.1\nservices: [{name: hello, port: 8080}]\n");
        AgentConfig.load(file);
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void load(byte[] input) throws Exception {
        Files.write(file, input);
        try {
            AgentConfig.load(file);
        } catch (AgentConfig.ConfigException refused) {
            // documented
        }
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void roundTrip(byte[] input) throws Exception {
        Files.write(file, input);
        AgentConfig read;
        try {
            read = AgentConfig.load(file);
        } catch (AgentConfig.ConfigException refused) {
            return; // documented; load covers it
        }
        Files.writeString(file, AgentConfigWriter.yaml(read));
        AgentConfig again = AgentConfig.load(file);
        if (!again.equals(read)) {
            throw new AssertionError("written and read back, " + read + " became " + again);
        }
    }
}
