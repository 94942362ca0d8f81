package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControllerConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsThenYamlThenEnvironmentThenFlags() throws Exception {
        Path yaml = dir.resolve("controller.yaml");
        Files.writeString(yaml, "dataDir: /from/yaml\nlisten: 127.0.0.9:7000\npushDebounce: 2s\n");
        ControllerConfig config = new ControllerConfig.Builder().yaml(yaml)
                .environment(Map.of("MESHFED_LISTEN", "127.0.0.8:7001", "MESHFED_HTTP_LISTEN", "127.0.0.8:7002"))
                .flag("listen", "127.0.0.7:7003", "--listen")
                .build();
        assertThat(config.dataDir()).isEqualTo(Path.of("/from/yaml"));
        assertThat(config.listen().getPort()).isEqualTo(7003);
        assertThat(config.httpListen().getPort()).isEqualTo(7002);
        assertThat(config.pushDebounce()).isEqualTo(Duration.ofSeconds(2));
        ControllerConfig defaults = new ControllerConfig.Builder().build();
        assertThat(defaults.listen().getPort()).isEqualTo(15012);
        assertThat(defaults.httpListen().getPort()).isEqualTo(15014);
    }

    @Test
    void badSettingsNameTheSettingAndItsSource() throws Exception {
        Path yaml = dir.resolve("typo.yaml");
        Files.writeString(yaml, "listne: 127.0.0.1:1\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml))
                .hasMessageContaining("unknown setting 'listne'");
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("listen", "localhost", "--listen").build())
                .hasMessage("listen 'localhost' (from flag --listen) must be HOST:PORT with a port 0-65535");
        assertThatThrownBy(() -> new ControllerConfig.Builder()
                .environment(Map.of("MESHFED_PUSH_DEBOUNCE", "soon")).build())
                .hasMessageContaining("(from environment variable MESHFED_PUSH_DEBOUNCE)");
        Files.writeString(yaml, "- a list\n");
        assertThatThrownBy(() -> new ControllerConfig.Builder().yaml(yaml)).hasMessageContaining("YAML mapping");
    }

    @Test
    void theProbeListenerIsOffUnlessSet() throws Exception {
        assertThat(new ControllerConfig.Builder().build().probeListen()).isNull();
        Path yaml = dir.resolve("probes.yaml");
        Files.writeString(yaml, "probeListen: 127.0.0.9:7004\n");
        assertThat(new ControllerConfig.Builder().yaml(yaml).build().probeListen().getPort()).isEqualTo(7004);
        assertThat(new ControllerConfig.Builder().yaml(yaml).environment(Map.of("MESHFED_PROBE_LISTEN",
                "127.0.0.8:7005")).build().probeListen().getPort()).isEqualTo(7005);
        assertThat(new ControllerConfig.Builder().yaml(yaml).flag("probeListen", "127.0.0.7:7006", "--probe-listen")
                .build().probeListen().getPort()).isEqualTo(7006);
        assertThatThrownBy(() -> new ControllerConfig.Builder().flag("probeListen", "nowhere", "--probe-listen")
                .build()).hasMessageStartingWith("probeListen 'nowhere' (from flag --probe-listen)");
    }

    @Test
    void anUninitialisedDataDirectoryIsAClearError() {
        ControllerConfig config = new ControllerConfig.Builder().flag("dataDir", dir.resolve("empty").toString(),
                "--data-dir").flag("listen", "127.0.0.1:0", "--listen").flag("httpListen", "127.0.0.1:0", "x").build();
        assertThatThrownBy(() -> Controller.start(config, java.time.Clock.systemUTC()))
                .hasMessageContaining("no federation in " + dir.resolve("empty"))
                .hasMessageContaining("meshfed init --controller HOST:PORT --data-dir");
    }
}
