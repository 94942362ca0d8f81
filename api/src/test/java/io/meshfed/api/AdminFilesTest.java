package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdminFilesTest {
    @Test
    void meshfedHomeWinsOverHome() {
        assertThat(AdminFiles.home(Map.of("MESHFED_HOME", "/opt/admin", "HOME", "/home/ci")))
                .isEqualTo(Path.of("/opt/admin"));
    }

    @Test
    void homeVariableWinsOverTheJavaUserHome() {
        assertThat(System.getProperty("user.home")).isNotEqualTo("/home/ci");
        assertThat(AdminFiles.home(Map.of("HOME", "/home/ci"))).isEqualTo(Path.of("/home/ci/.meshfed"));
    }

    @Test
    void javaUserHomeOnlyWithoutEitherVariable() {
        assertThat(AdminFiles.home(Map.of("HOME", " ", "MESHFED_HOME", "")))
                .isEqualTo(Path.of(System.getProperty("user.home"), ".meshfed"));
        assertThat(AdminFiles.home(Map.of())).isEqualTo(Path.of(System.getProperty("user.home"), ".meshfed"));
    }
}
