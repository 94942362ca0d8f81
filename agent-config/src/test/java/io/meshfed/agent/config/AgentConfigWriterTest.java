package io.meshfed.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigWriterTest {
    @TempDir
    Path dir;

    private AgentConfig writeAndLoad(AgentConfig config) throws IOException {
        Files.writeString(config.file(), AgentConfigWriter.yaml(config));
        return AgentConfig.load(config.file());
    }

    @Test
    void theReadmeExampleLoadsBackEqualAfterWriting() throws IOException {
        Path file = dir.resolve("agent.yaml");
        Files.copy(Path.of("src/test/resources/io/meshfed/agent/config/AgentConfigFuzzTestInputs/load/readme-example"),
                file);
        AgentConfig read = AgentConfig.load(file);

        AgentConfig again = writeAndLoad(read);

        assertThat(again).isEqualTo(read);
        assertThat(again.inboundAdvertise()).isEqualTo("10.0.0.5:15006");
        assertThat(again.locality()).isEqualTo("eu-west/a");
    }

    @Test
    void everyFieldSurvivesIncludingIpv6OtherNamespacesAndSubSecondChecks() throws IOException {
        AgentConfig config = new AgentConfig(dir.resolve("agent.yaml"), "east", "vm-1", "demo",
                Path.of("/var/lib/meshfed agent"), "::1", "", new InetSocketAddress("::1", 15006), null,
                new InetSocketAddress("127.0.0.1", 15020), Duration.ofMillis(1500), Duration.ofMillis(250),
                List.of(new AgentConfig.LocalService("hello", "demo", 8080, new InetSocketAddress("::1", 8080),
                                AgentConfig.Protocol.HTTP, "/healthz"),
                        new AgentConfig.LocalService("db", "data", 5432, new InetSocketAddress("127.0.0.1", 15432),
                                AgentConfig.Protocol.TCP, null, 250),
                        new AgentConfig.LocalService("007", "123", 1, new InetSocketAddress("127.0.0.1", 1),
                                AgentConfig.Protocol.TCP, null)),
                List.of(new AgentConfig.Import("echo", "other", 8080, new InetSocketAddress("127.0.0.1", 18080))));

        String yaml = AgentConfigWriter.yaml(config);

        assertThat(writeAndLoad(config)).isEqualTo(config);
        assertThat(yaml).contains("listen: \"[0:0:0:0:0:0:0:1]:15006\"").contains("interval: 1500ms")
                .contains("timeout: 250ms").contains("name: \"007\"").contains("weight: 250").doesNotContain("locality");
    }

    @Test
    void theFileIsPlainYamlAnOperatorCanRead() {
        AgentConfig config = new AgentConfig(dir.resolve("agent.yaml"), "west", "west-vm", "demo",
                Path.of("/srv/agent"), "127.0.2.2", "", new InetSocketAddress("127.0.2.2", 15006), null,
                new InetSocketAddress("127.0.2.2", 15020), Duration.ofSeconds(2), Duration.ofSeconds(1),
                List.of(new AgentConfig.LocalService("echo", "demo", 8080, new InetSocketAddress("127.0.2.2", 8080),
                        AgentConfig.Protocol.HTTP, "/healthz")),
                List.of(new AgentConfig.Import("hello", "demo", 8080, new InetSocketAddress("127.0.2.2", 18080))));

        assertThat(AgentConfigWriter.yaml(config)).isEqualTo("""
                member: west
                name: west-vm
                namespace: demo
                stateDir: /srv/agent
                address: 127.0.2.2
                inbound:
                  listen: 127.0.2.2:15006
                http:
                  listen: 127.0.2.2:15020
                healthCheck:
                  interval: 2s
                  timeout: 1s
                services:
                  - name: echo
                    port: 8080
                    target: 127.0.2.2:8080
                    protocol: http
                    check:
                      http: /healthz
                imports:
                  - service: hello
                    port: 8080
                    listen: 127.0.2.2:18080
                """);
    }
}
