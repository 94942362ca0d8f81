package io.meshfed.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admin commands against a controller with fixed answers: table and JSON output compared with golden files in
 * src/test/resources/golden (regenerate with -Dgolden.update=true and review the diff), and every bad-input path.
 */
class AdminCommandsTest {
    @TempDir
    Path dir;
    private FakeController controller;

    @BeforeEach
    void start() throws Exception {
        controller = new FakeController(dir.resolve("home"), "/meshfed/controller");
    }

    @AfterEach
    void stop() {
        controller.close();
    }

    record Result(int exit, String out, String err) {}

    private Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Result(code, out.toString(), err.toString());
    }

    private Result run(String... args) {
        return run(controller.env(), args);
    }

    private static void golden(String name, String actual) throws Exception {
        Path source = Path.of("src/test/resources/golden", name);
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(source, actual);
        }
        assertThat(actual).as("golden file " + source).isEqualTo(Files.readString(source, StandardCharsets.UTF_8));
    }

    private void goldenOk(String name, String... args) throws Exception {
        Result r = run(args);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        golden(name, r.out());
    }

    @Test
    void tablesMatchTheirGoldenFiles() throws Exception {
        goldenOk("members.txt", "members");
        goldenOk("services.txt", "services");
        goldenOk("status.txt", "status");
        goldenOk("token-create.txt", "token", "create", "--member", "east", "--role", "agent", "--service",
                "hello.demo");
        goldenOk("export.txt", "export", "hello.demo", "--to", "west", "--to", "north");
        goldenOk("export-all.txt", "export", "hello.demo", "--all");
        goldenOk("export-failover.txt", "export", "hello.demo", "--all", "--failover", "west,north");
        goldenOk("export-failover-only.txt", "export", "hello.demo", "--failover", "north");
        goldenOk("unexport.txt", "unexport", "hello.demo", "--all");
        goldenOk("network-create.txt", "network", "create", "east", "--gateway-address", "127.0.1.1:15443");
        goldenOk("network-create-tunnel.txt", "network", "create", "east", "--gateway-address", "127.0.1.1:15443",
                "--tunnel-address", "127.0.1.1:15008");
        goldenOk("member-add.txt", "member", "add", "east", "--type", "vm", "--network", "east");
    }

    @Test
    void routesAreReadFromSpringCloudGatewayYamlAndShownAsShortcuts() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("routes", ".yaml");
        java.nio.file.Files.writeString(file, """
                routes:
                  - id: hello
                    uri: lb://hello.demo
                    order: 1
                    predicates:
                      - Path=/hello/**
                      - name: Header
                        args:
                          header: X-Version
                          regexp: v2
                    filters:
                      - StripPrefix=1
                      - AddRequestHeader=X-Via, meshfed
                  - id: echo
                    uri: lb://echo.demo
                    predicates:
                      - Path=/echo/**
                """);
        goldenOk("route-apply.txt", "route", "apply", file.toString());
        goldenOk("route-list.json", "route", "list", "-o", "json");
        goldenOk("route-delete.txt", "route", "delete", "echo");
        Result missing = run("route", "delete", "echo");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("meshfed: route 'echo' does not exist");

        java.nio.file.Files.writeString(file, "routes:\n  - id: x\n    uri: lb://a.b\n    predicate:\n      - Path=/\n");
        Result unknown = run("route", "apply", file.toString());
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err().strip()).isEqualTo("meshfed: " + file + ": routes[0]: unknown key 'predicate' (known:"
                + " [filters, id, metadata, order, predicates, uri])");
        java.nio.file.Files.writeString(file, "routes:\n  - id: x\n    uri: lb://a.b\n    predicates:\n      - Path\n");
        assertThat(run("route", "apply", file.toString()).err()).contains("routes[0].predicates[0]: 'Path' must be"
                + " Name=arguments");
        assertThat(run("route", "apply", "nothing.yaml").err().strip())
                .isEqualTo("meshfed: cannot read nothing.yaml: no such file");
    }

    @Test
    void jsonMatchesItsGoldenFiles() throws Exception {
        goldenOk("members.json", "members", "-o", "json");
        goldenOk("services.json", "services", "-o", "json");
        goldenOk("status.json", "status", "-o", "json");
    }

    @Test
    void networksAreListedWithTheirGatewayAddressAndGatewayMembers() throws Exception {
        goldenOk("network-list.txt", "network", "list");
        goldenOk("network-list.json", "network", "list", "-o", "json");
        goldenOk("network-create-gateway-members.txt", "network", "create", "west", "--gateway-member", "west",
                "--gateway-member", "west-b");
        goldenOk("member-add-cidrs.json", "member", "add", "west-b", "--type", "vm", "--network", "west",
                "--cidr", "10.2.0.0/16", "--cidr", "fd00:2::/64", "-o", "json");
        Result ghost = run("network", "create", "west", "--gateway-member", "ghost");
        assertThat(ghost.exit()).isNotZero();
        assertThat(ghost.err()).isEqualTo("meshfed: gateway member 'ghost' does not exist; add it first with:"
                + " meshfed member add ghost --type vm --network west\n");
    }

    @Test
    void controllerErrorsAreOneLine() {
        Result missing = run("token", "create", "--member", "ghost", "--role", "agent");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("meshfed: member 'ghost' does not exist\n");
        Result precondition = run("member", "add", "x", "--type", "vm", "--network", "nowhere");
        assertThat(precondition.err()).isEqualTo("meshfed: network 'nowhere' does not exist; create it with:"
                + " meshfed network create nowhere\n");
    }

    @Test
    void badInputIsAUsageError() {
        Result service = run("export", "a.b.c", "--all");
        assertThat(service.exit()).isEqualTo(2);
        assertThat(service.err()).contains("'a.b.c' is not SERVICE.NAMESPACE");
        Result nobody = run("export", "hello.demo");
        assertThat(nobody.exit()).isEqualTo(2);
        assertThat(nobody.err()).contains("say whom to export to (--to MEMBER|TRUST-DOMAIN or --all), or give --failover");
        assertThat(run("export", "hello.demo", "--all", "--to", "x").exit()).isEqualTo(2);
        Result role = run("token", "create", "--member", "east", "--role", "root");
        assertThat(role.exit()).isEqualTo(2);
        assertThat(role.err()).contains("unknown role 'root'");
        Result format = run("members", "-o", "yaml");
        assertThat(format.exit()).isEqualTo(2);
        assertThat(format.err()).contains("unknown output format 'yaml'");
    }

    @Test
    void missingCredentialsAndAnUnreachableControllerAreExplained() throws Exception {
        Result none = run(Map.of("MESHFED_HOME", dir.resolve("nothing").toString()), "members");
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("no admin credentials in " + dir.resolve("nothing"))
                .contains("meshfed init --controller HOST:PORT --data-dir DIR");
        controller.close();
        Result down = run("members");
        assertThat(down.exit()).isEqualTo(1);
        assertThat(down.err()).startsWith("meshfed: cannot reach the controller: ").doesNotContain("\tat ");
    }

    @Test
    void aServerThatIsNotTheControllerIsNotTrusted() throws Exception {
        try (FakeController impostor = new FakeController(dir.resolve("home2"), "/meshfed/gateway/not-the-controller")) {
            Result r = run(impostor.env(), "members");
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).startsWith("meshfed: cannot reach the controller: ");
            assertThat(r.out()).isEmpty();
        }
    }
}
