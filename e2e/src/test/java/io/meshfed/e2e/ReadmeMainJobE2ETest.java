package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's commands, run as a user would (through the ./meshfed launcher, as real processes), so the README
 * and the code cannot drift apart: block 1 is the main job (the quickstart), block 2 the test command, block 3 a
 * controller of one's own, block 4 the trust walkthrough.
 */
class ReadmeMainJobE2ETest {
    private static final Pattern SH_BLOCK = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL);

    @TempDir
    Path work;

    static List<String> readmeCommands() throws Exception {
        String readme = Files.readString(Processes.root().resolve("README.md"));
        Matcher m = SH_BLOCK.matcher(readme);
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1).strip());
        }
        return blocks;
    }

    private static String withAbsoluteLauncher(String command) {
        return command.replace("./meshfed", Processes.root().resolve("meshfed").toString());
    }

    @Test
    void readmeStartsWithTheMainJobAndTheTestCommand() throws Exception {
        List<String> commands = readmeCommands();
        assertThat(commands).hasSizeGreaterThanOrEqualTo(4);
        assertThat(commands.get(0)).isEqualTo("./meshfed quickstart");
        assertThat(commands.get(2)).startsWith("./meshfed init ").contains("./meshfed controller");
        assertThat(commands.get(1)).isEqualTo("mvn -B -ntp verify");
        assertThat(Files.readString(Processes.root().resolve(".ci/run"))).contains("\n" + commands.get(1) + "\n");
    }

    @Test
    void mainJobStartsTheQuickstartThatAnswersAcrossNetworksAndStopsEverythingOnSigterm() throws Exception {
        String command = withAbsoluteLauncher(readmeCommands().get(0));
        Process p = new ProcessBuilder("bash", "-c", command).directory(work.toFile()).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            String line;
            while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("Addresses, SPIFFE IDs and logs:")) {
                    break;
                }
            }
            assertThat(lines).as(String.join("\n", lines)).contains("meshfed quickstart is running. Try:")
                    .anyMatch(l -> l.startsWith("[8/8] ready in "));
            String json = Files.readString(work.resolve("quickstart/quickstart.json"));
            Matcher entry = Pattern.compile("\"hello.demo from west through both gateways\" : \"([0-9.:]+)\"")
                    .matcher(json);
            assertThat(entry.find()).as(json).isTrue();
            String curl = lines.stream().filter(l -> l.contains("curl http://" + entry.group(1) + "/")).findFirst()
                    .orElseThrow().strip().replaceAll("\\s+#.*", "");
            Processes.Result answer = Processes.run(work, Duration.ofMinutes(1), List.of("bash", "-c", curl));
            assertThat(answer.stdout()).isEqualTo("hello from hello.demo in network east\n");
            // The edge gateway speaks HTTP/2 in clear text with prior knowledge, as gRPC clients and h2load do.
            Processes.Result h2 = Processes.run(work, Duration.ofMinutes(1), List.of("curl", "-sS",
                    "--http2-prior-knowledge", "-w", "%{http_version}", "http://127.0.0.1:18000/hello/h2"));
            assertThat(h2.stdout()).as(h2.toString()).isEqualTo("hello from hello.demo in network east\n2");
            assertThat(json).contains("\"spiffeId\" : \"spiffe://east.meshfed.local/meshfed/gateway/east-gw\"")
                    .contains("\"spiffeId\" : \"spiffe://west.meshfed.local/ns/demo/vm/west-vm\"");
        } finally {
            p.destroy(); // SIGTERM, as Ctrl-C in a terminal: the quickstart stops its processes
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        }
        Matcher pids = Pattern.compile("\"pid\" : (\\d+)").matcher(Files.readString(work.resolve(
                "quickstart/quickstart.json")));
        int count = 0;
        while (pids.find()) {
            count++;
            assertThat(ProcessHandle.of(Long.parseLong(pids.group(1))).map(ProcessHandle::isAlive)).isNotEqualTo(
                    java.util.Optional.of(true));
        }
        assertThat(count).isEqualTo(8);
    }

    @Test
    void quickstartSmokeMakesTheCrossNetworkCallAndTheRefusedCallsThenStops() throws Exception {
        Processes.Result smoke = Processes.run(work, Duration.ofMinutes(5), List.of(
                Processes.root().resolve("meshfed").toString(), "quickstart", "--smoke", "--dir", "qs"));
        assertThat(smoke.exitCode()).as(smoke.toString()).isZero();
        assertThat(smoke.stdout()).contains("  ok    cross-network call from west through both gateways")
                .contains("  ok    plaintext to east's gateway: refused")
                .contains("to whom hello.demo is not exported: refused, east gateway counted 1 refusal(s) with"
                        + " reason unauthorized")
                .contains("  ok    through the edge gateway (127.0.0.1:18000/hello/smoke): hello from hello.demo"
                        + " in network east")
                .contains("  ok    through the edge gateway (127.0.0.1:18000/echo/smoke): GET /smoke")
                .contains("smoke: PASS");
        assertThat(work.resolve("qs/logs/east-gateway.log")).exists();
    }

    @Test
    void quickstartFailsFastWhenAPortIsTaken() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(15443, 1,
                java.net.InetAddress.getByName("127.0.1.1"))) {
            Processes.Result r = Processes.run(work, Duration.ofMinutes(5), List.of(
                    Processes.root().resolve("meshfed").toString(), "quickstart", "--smoke"));
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("meshfed: cannot start the quickstart, 127.0.1.1:15443 (east gateway"
                    + " (mTLS)): ");
            assertThat(r.stdout()).as("no step started").doesNotContainPattern("\\[\\d+/\\d+\\]");
        }
    }

    @Test
    void ownControllerRunsALocalFederationThatTheAdminCommandsReach() throws Exception {
        int grpc = Processes.freePort();
        int http = Processes.freePort();
        // The README's ports may be taken on a shared machine: same command, free ports.
        String command = withAbsoluteLauncher(readmeCommands().get(2)).replace("127.0.0.1:15012", "127.0.0.1:" + grpc);
        Map<String, String> env = Map.of("MESHFED_HOME", work.resolve("home").toString(),
                "MESHFED_LISTEN", "127.0.0.1:" + grpc, "MESHFED_HTTP_LISTEN", "127.0.0.1:" + http);
        for (int run = 0; run < 2; run++) { // the second run restarts on the same state
            ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(work.toFile())
                    .redirectErrorStream(true);
            builder.environment().putAll(env);
            Process p = builder.start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                List<String> lines = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                String line;
                while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
                    lines.add(line);
                    if (line.startsWith("meshfed controller ready")) {
                        break;
                    }
                }
                assertThat(lines).as(String.join("\n", lines)).anyMatch(l -> l.startsWith("meshfed controller ready"));
                String expected = run == 0 ? "Initialised federation meshfed.local"
                        : "Federation meshfed.local already exists";
                assertThat(lines).anyMatch(l -> l.contains(expected));
                List<String> network = List.of(Processes.root().resolve("meshfed").toString(), "network", "create",
                        "east" + run);
                Processes.Result created = Processes.run(work, Duration.ofMinutes(2), network, env);
                assertThat(created.exitCode()).as(created.toString()).isZero();
                Processes.Result status = Processes.run(work, Duration.ofMinutes(2),
                        List.of(Processes.root().resolve("meshfed").toString(), "status"), env);
                assertThat(status.stdout()).startsWith("controller  trust domain meshfed.local, store revision "
                        + (run + 1) + ",");
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                        work.resolve("home/admin.key.pem")))).isEqualTo("rw-------");
            } finally {
                p.descendants().forEach(ProcessHandle::destroy); // SIGTERM: the controller shuts down cleanly
                p.destroy();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void trustWalkthroughCreatesACaIssuesAndVerifiesAnSvidAndCanBeRunAgain() throws Exception {
        String command = withAbsoluteLauncher(readmeCommands().get(3));
        Processes.Result first = Processes.run(work, Duration.ofMinutes(5), List.of("bash", "-c", command));
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.stdout()).contains("Created builtin CA for trust domain east.acme.mesh in demo/east")
                .contains("Issued spiffe://east.acme.mesh/ns/demo/sa/hello")
                .contains("valid: spiffe://east.acme.mesh/ns/demo/sa/hello");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(work.resolve("demo/hello.key.pem"))))
                .isEqualTo("rw-------");
        Processes.Result second = Processes.run(work, Duration.ofMinutes(5), List.of("bash", "-c", command));
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
