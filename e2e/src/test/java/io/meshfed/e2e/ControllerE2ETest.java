package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's path with real processes: {@code meshfed init}, {@code meshfed controller} in the background, admin
 * commands through ./meshfed, then the controller killed with SIGKILL and started again: nothing acknowledged is lost.
 */
class ControllerE2ETest {
    @TempDir
    Path work;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() {
        started.forEach(Process::destroyForcibly);
    }

    private Map<String, String> env() {
        return Map.of("MESHFED_HOME", work.resolve("home").toString());
    }

    private Processes.Result meshfed(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Processes.root().resolve("meshfed").toString());
        command.addAll(List.of(args));
        return Processes.run(work, Duration.ofMinutes(5), command, env());
    }

    private Processes.Result ok(String... args) throws Exception {
        Processes.Result r = meshfed(args);
        assertThat(r.exitCode()).as(String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    /** Starts the controller and waits for its readiness line. */
    private Process startController(int grpc, int http) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Processes.root().resolve("meshfed").toString(), "controller",
                "--data-dir", work.resolve("data").toString(), "--listen", "127.0.0.1:" + grpc,
                "--http-listen", "127.0.0.1:" + http).directory(work.toFile())
                .redirectError(work.resolve("controller-" + started.size() + ".log").toFile());
        builder.environment().putAll(env());
        Process p = builder.start();
        started.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            if (line.startsWith("meshfed controller ready")) {
                return p;
            }
        }
        throw new AssertionError("controller did not report ready; log:\n"
                + Files.readString(work.resolve("controller-" + (started.size() - 1) + ".log")));
    }

    @Test
    void initRunAdministerKillAndRestart() throws Exception {
        int grpc = Processes.freePort();
        int http = Processes.freePort();
        Processes.Result init = ok("init", "--controller", "127.0.0.1:" + grpc, "--data-dir",
                work.resolve("data").toString(), "--trust-domain", "acme.mesh");
        assertThat(init.stdout()).contains("Initialised federation acme.mesh")
                .contains("admin identity  spiffe://acme.mesh/meshfed/admin");

        Process controller = startController(grpc, http);
        ok("network", "create", "east", "--gateway-address", "127.0.1.1:15443");
        ok("network", "create", "west");
        ok("member", "add", "east", "--type", "vm", "--network", "east");
        ok("member", "add", "west", "--type", "vm", "--network", "west");
        String token = ok("token", "create", "--member", "east", "--role", "agent", "--service", "hello.demo",
                "-o", "json").stdout();
        assertThat(token).contains("\"token\": \"mf1.");
        ok("export", "hello.demo", "--to", "west");
        Files.writeString(work.resolve("routes.yaml"), "routes:\n  - id: hello\n    uri: lb://hello.demo\n"
                + "    predicates:\n      - Path=/hello/**\n    filters:\n      - StripPrefix=1\n");
        assertThat(ok("route", "apply", work.resolve("routes.yaml").toString()).stdout())
                .contains("hello  0      lb://hello.demo  Path=/hello/**  StripPrefix=1");
        Processes.Result members = ok("members");
        assertThat(members.stdout()).contains("east    vm    east     east.acme.mesh")
                .contains("west    vm    west     west.acme.mesh");
        Processes.Result refused = meshfed("member", "add", "north", "--type", "vm", "--network", "nowhere");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.stderr().strip()).isEqualTo(
                "meshfed: network 'nowhere' does not exist; create it with: meshfed network create nowhere");

        // SIGKILL: no shutdown hook, no clean close of the store.
        controller.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Processes.Result down = meshfed("members");
        assertThat(down.exitCode()).isEqualTo(1);
        assertThat(down.stderr()).startsWith("meshfed: cannot reach the controller");

        startController(grpc, http);
        Processes.Result after = ok("members", "-o", "json");
        assertThat(after.stdout()).contains("\"trustDomain\": \"east.acme.mesh\"")
                .contains("\"trustDomain\": \"west.acme.mesh\"");
        Processes.Result status = ok("status");
        assertThat(status.stdout()).startsWith("controller  trust domain acme.mesh, store revision ");
        assertThat(ok("route", "list").stdout()).contains("hello  0      lb://hello.demo  Path=/hello/**");
        Processes.Result exported = ok("export", "hello.demo", "--to", "east");
        assertThat(exported.stdout()).contains("hello.demo  east, west");
    }

    @Test
    void aTakenPortIsAClearError() throws Exception {
        int grpc = Processes.freePort();
        ok("init", "--controller", "127.0.0.1:" + grpc, "--data-dir", work.resolve("data").toString());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Processes.Result r = meshfed("controller", "--data-dir", work.resolve("data").toString(), "--listen",
                    "127.0.0.1:" + taken.getLocalPort(), "--http-listen", "127.0.0.1:" + Processes.freePort());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("meshfed: cannot listen").contains("is the port taken?");
        }
        Processes.Result noFederation = meshfed("controller", "--data-dir", work.resolve("empty").toString());
        assertThat(noFederation.exitCode()).isEqualTo(1);
        assertThat(noFederation.stderr()).contains("no federation in").contains("meshfed init --controller");
    }
}
