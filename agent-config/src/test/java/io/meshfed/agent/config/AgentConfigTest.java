package io.meshfed.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("agent.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void aFullFileIsReadWithItsDefaults() throws IOException {
        AgentConfig c = AgentConfig.load(write("""
                member: east
                name: vm-1
                namespace: demo
                stateDir: /tmp/state
                address: 10.0.0.5
                services:
                  - name: hello
                    port: 8080
                    protocol: http
                    check:
                      http: /healthz
                  - name: db
                    namespace: data
                    port: 5432
                    target: 127.0.0.1:15432
                    weight: 3
                imports:
                  - service: echo
                    port: 8080
                    listen: 127.0.0.1:18080
                """));
        assertThat(c.member()).isEqualTo("east");
        assertThat(c.inboundListen()).isEqualTo(new InetSocketAddress("0.0.0.0", 15006));
        assertThat(c.httpListen()).isEqualTo(new InetSocketAddress("127.0.0.1", 15020));
        assertThat(c.checkInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.services()).extracting(AgentConfig.LocalService::key)
                .containsExactly("hello.demo:8080", "db.data:5432");
        assertThat(c.services().get(0).checkHttpPath()).isEqualTo("/healthz");
        assertThat(c.services().get(0).target().getPort()).isEqualTo(8080);
        assertThat(c.services().get(1).checkHttpPath()).isNull();
        assertThat(c.services().get(1).target().getPort()).isEqualTo(15432);
        assertThat(c.services()).extracting(AgentConfig.LocalService::weight).as("0: not set").containsExactly(0, 3);
        assertThat(c.imports()).extracting(AgentConfig.Import::key).containsExactly("echo.demo:8080");
    }

    @Test
    void everyProblemNamesTheFileAndTheKey() throws IOException {
        String head = "member: east\nname: vm-1\naddress: 10.0.0.5\n";
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services:\n  - name: hello\n    port: 70000\n")))
                .hasMessageContaining("agent.yaml: services[0].port: 70000 is outside 1-65535");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services:\n  - name: hello\n    port: 80\n"
                + "    weight: 0\n"))).hasMessageContaining("agent.yaml: services[0].weight: 0 is outside 1-1000");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services:\n  - name: hello\n    port: 80\n"
                + "    weight: 1001\n"))).hasMessageContaining("services[0].weight: 1001 is outside 1-1000");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services:\n  - name: Hello\n    port: 80\n")))
                .hasMessageContaining("services[0].name: 'Hello' must be a DNS label");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "servces:\n  - name: hello\n")))
                .hasMessageContaining("agent.yaml: Unrecognized field \"servces\"");
        assertThatThrownBy(() -> AgentConfig.load(write("name: vm-1\nservices:\n  - name: a\n    port: 1\n")))
                .hasMessageContaining("member: is required");
        assertThatThrownBy(() -> AgentConfig.load(write("member: east\nname: vm-1\n"
                + "services:\n  - name: a\n    port: 1\n")))
                .hasMessageContaining("address: is required when inbound.listen is a wildcard address");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services:\n  - name: a\n    port: 1\n"
                + "    check:\n      http: healthz\n")))
                .hasMessageContaining("services[0].check.http: 'healthz' must be a path starting with /");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "imports:\n  - service: a\n    port: 1\n")))
                .hasMessageContaining("imports[0].listen: is required (HOST:PORT)");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "healthCheck:\n  interval: soon\n"
                + "services:\n  - name: a\n    port: 1\n")))
                .hasMessageContaining("healthCheck.interval: invalid duration 'soon'");
        assertThatThrownBy(() -> AgentConfig.load(write(head)))
                .hasMessageContaining("services: declare at least one service or import");
        assertThatThrownBy(() -> AgentConfig.load(dir.resolve("missing.yaml")))
                .hasMessageContaining("missing.yaml: no such file");
    }

    /** Found by AgentConfigFuzzTest's seeds: these escaped as NullPointerException and InvalidPathException. */
    @Test
    void emptyListEntriesAndAStateDirThatIsNoPathNameTheKey() throws IOException {
        String head = "member: east\nname: vm-1\naddress: 10.0.0.5\n";
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services: [~]\n")))
                .isInstanceOf(AgentConfig.ConfigException.class)
                .hasMessageContaining("agent.yaml: services[0]: is empty; a service needs at least name and port");
        assertThatThrownBy(() -> AgentConfig.load(write(head + "services: [{name: a, port: 1}]\nimports: [~]\n")))
                .isInstanceOf(AgentConfig.ConfigException.class)
                .hasMessageContaining("agent.yaml: imports[0]: is empty; an import needs service, port and listen");
        String nul = "stateDir: \"a\\0b\"\nservices: [{name: a, port: 1}]\n";
        assertThatThrownBy(() -> AgentConfig.load(write(head + nul)))
                .isInstanceOf(AgentConfig.ConfigException.class)
                .hasMessageContaining("agent.yaml: stateDir: 'a b' is not a path: Nul character not allowed");
    }
}
