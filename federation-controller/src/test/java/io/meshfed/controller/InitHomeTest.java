package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed init} in an environment where {@code $HOME} and Java's {@code user.home} differ (CI, containers,
 * a pod running as a UID without a passwd entry): the admin's credentials go to {@code $HOME/.meshfed}.
 */
class InitHomeTest {
    @TempDir
    Path dir;

    @Test
    void initWritesTheAdminCredentialsUnderHomeNotUnderUserHome() throws Exception {
        Path home = dir.resolve("home");
        Path passwdHome = dir.resolve("passwd-home");
        Files.createDirectories(home);
        Files.createDirectories(passwdHome);
        ProcessBuilder init = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + passwdHome, "-cp", System.getProperty("java.class.path"),
                ControllerMain.class.getName(), "init", "--controller", "127.0.0.1:15012",
                "--data-dir", dir.resolve("data").toString())
                .redirectErrorStream(true);
        init.environment().remove("MESHFED_HOME");
        init.environment().put("HOME", home.toString());
        Process child = init.start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(output).isZero();

        Path credentials = home.resolve(".meshfed");
        assertThat(credentials.resolve("admin.key.pem")).isRegularFile();
        assertThat(credentials.resolve("admin.crt.pem")).isRegularFile();
        assertThat(credentials.resolve("config.json")).isRegularFile();
        assertThat(credentials.resolve("federation-bundle.json")).isRegularFile();
        assertThat(output).contains("credentials     " + credentials);
        assertThat(passwdHome).isEmptyDirectory();
    }
}
