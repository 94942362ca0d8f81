package io.meshfed.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.agent.config.AgentConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The agent.yaml the .deb and the tarball install (moved here from AgentConfigTest with the reader). */
class PackagedAgentYamlTest {
    @Test
    void theExampleShippedInThePackagesIsValid() {
        AgentConfig c = AgentConfig.load(Path.of("src/pkg/etc/agent.yaml"));
        assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/meshfed-agent"));
        assertThat(c.services()).extracting(AgentConfig.LocalService::key).containsExactly("my-service.default:8080");
    }
}
