package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, run as a user would (through the ./meshfed launcher, as real processes), so the README
 * and the code cannot drift apart.
 */
class ReadmeMainJobE2ETest {
    private static final Pattern SH_BLOCK = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL);

    @TempDir
    Path work;

    static List<String> readmeCommands() throws Exception {
        String readme = Files.readString(Processes.root().resolve("README.md"));
        Matcher m = SH_BLOCK.matcher(readme);
        List<String> blocks = new java.util.ArrayList<>();
        while (m.find() && blocks.size() < 2) {
            blocks.add(m.group(1).strip());
        }
        return blocks;
    }

    private Processes.Result runMainJob() throws Exception {
        String command = readmeCommands().get(0).replace("./meshfed", Processes.root().resolve("meshfed").toString());
        return Processes.run(work, Duration.ofMinutes(5), List.of("bash", "-c", command));
    }

    @Test
    void readmeStartsWithTheMainJobAndTheTestCommand() throws Exception {
        List<String> commands = readmeCommands();
        assertThat(commands).hasSize(2);
        assertThat(commands.get(0)).startsWith("./meshfed ");
        assertThat(commands.get(1)).isEqualTo("mvn -B -ntp verify");
        assertThat(Files.readString(Processes.root().resolve(".ci/run"))).contains("\n" + commands.get(1) + "\n");
    }

    @Test
    void mainJobCreatesACaIssuesAndVerifiesAnSvidAndCanBeRunAgain() throws Exception {
        Processes.Result first = runMainJob();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.stdout()).contains("Created builtin CA for trust domain east.acme.mesh in demo/east")
                .contains("Issued spiffe://east.acme.mesh/ns/demo/sa/hello")
                .contains("valid: spiffe://east.acme.mesh/ns/demo/sa/hello");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(work.resolve("demo/hello.key.pem"))))
                .isEqualTo("rw-------");

        Processes.Result second = runMainJob();
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.stdout()).contains("already exists in demo/east; kept it")
                .contains("valid: spiffe://east.acme.mesh/ns/demo/sa/hello");
    }

    @Test
    void realProcessReportsErrorsInOneLineWithTheDocumentedExitCodes() throws Exception {
        String meshfed = Processes.root().resolve("meshfed").toString();
        Processes.Result usage = Processes.run(work, Duration.ofMinutes(5), List.of(meshfed, "trust", "verify"));
        assertThat(usage.exitCode()).as(usage.toString()).isEqualTo(2);
        Processes.Result missing = Processes.run(work, Duration.ofMinutes(5),
                List.of(meshfed, "trust", "bundle", "show", "nothing.json"));
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr().strip()).isEqualTo("meshfed: cannot read nothing.json: no such file");
        Processes.Result version = Processes.run(work, Duration.ofMinutes(5), List.of(meshfed, "--version"));
        assertThat(version.exitCode()).isZero();
        assertThat(version.stdout()).startsWith("meshfed ");
    }
}
