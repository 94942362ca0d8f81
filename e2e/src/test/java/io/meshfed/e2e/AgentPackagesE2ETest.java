package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VM agent as shipped: the tarball and the .deb, unpacked and run as an operator would. */
class AgentPackagesE2ETest {
    private static final Path TARGET = Processes.root().resolve("vm-agent/target");

    @TempDir
    Path work;

    private static Path only(String glob) throws Exception {
        try (var files = Files.newDirectoryStream(TARGET, glob)) {
            List<Path> found = new java.util.ArrayList<>();
            files.forEach(found::add);
            assertThat(found).as(glob + " in " + TARGET).hasSize(1);
            return found.get(0);
        }
    }

    private Processes.Result run(String... command) throws Exception {
        return Processes.run(work, Duration.ofMinutes(2), List.of(command));
    }

    @Test
    void theTarballRunsFromWhereverItIsUnpacked() throws Exception {
        Path tarball = only("meshfed-agent-*.tar.gz");
        assertThat(run("tar", "-xzf", tarball.toString(), "-C", work.toString()).exitCode()).isZero();
        Path home;
        try (var dirs = Files.list(work)) {
            home = dirs.filter(p -> p.getFileName().toString().startsWith("meshfed-agent-")).findFirst().orElseThrow();
        }
        assertThat(home.resolve("etc/agent.yaml")).exists();
        assertThat(home.resolve("systemd/meshfed-agent.service")).exists();
        Processes.Result help = run(home.resolve("bin/meshfed-agent").toString(), "--help");
        assertThat(help.exitCode()).as(help.toString()).isZero();
        assertThat(help.stdout()).contains("join").contains("run");
        Processes.Result missing = run(home.resolve("bin/meshfed-agent").toString(), "run", "--config",
                work.resolve("nothing.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr().strip()).isEqualTo("meshfed-agent: " + work.resolve("nothing.yaml")
                + ": no such file");
    }

    @Test
    void theDebInstallsTheAgentItsUnitAndAConffileAndRuns() throws Exception {
        Path deb = only("meshfed-agent_*_all.deb");
        Processes.Result info = run("dpkg-deb", "--info", deb.toString());
        assertThat(info.exitCode()).as(info.toString()).isZero();
        assertThat(info.stdout()).contains("Package: meshfed-agent").contains("Architecture: all")
                .contains("Depends: default-jre-headless").contains("postinst").contains("conffiles");
        Processes.Result conffiles = run("dpkg-deb", "-f", deb.toString(), "Version");
        assertThat(conffiles.stdout().strip()).isEqualTo("0.1.0~SNAPSHOT");
        Processes.Result unpack = run("dpkg-deb", "-x", deb.toString(), work.resolve("root").toString());
        assertThat(unpack.exitCode()).as(unpack.toString()).isZero();
        Path root = work.resolve("root");
        assertThat(root.resolve("lib/systemd/system/meshfed-agent.service")).content()
                .contains("ExecStart=/usr/bin/meshfed-agent run --config /etc/meshfed/agent.yaml")
                .contains("User=meshfed").contains("NoNewPrivileges=true");
        assertThat(root.resolve("etc/meshfed/agent.yaml")).exists();
        assertThat(root.resolve("usr/share/meshfed-agent/lib/meshfed-agent.jar")).exists();
        Processes.Result help = run(root.resolve("usr/bin/meshfed-agent").toString(), "join", "--help");
        assertThat(help.exitCode()).as(help.toString()).isZero();
        assertThat(help.stdout()).contains("--controller").contains("MESHFED_JOIN_TOKEN");
    }
}
