package io.meshfed.cli;

import io.meshfed.cli.RealControllerCli.Result;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.connector.consul.testing.ConsulAcl;
import io.meshfed.controller.connector.consul.testing.ConsulTestServer;
import io.meshfed.controller.testing.TestFederation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed consul join|list|leave|render-policy} against a real controller (TestFederation) and the Consul
 * test server: join prints its steps and the controller's checks and waits for the first sync, is idempotent,
 * refuses with one line naming the cause, and never prints the token; render-policy prints the policy that join's
 * checks accept.
 */
class ConsulCommandsTest {
    @TempDir
    Path dir;
    private TestFederation federation;
    private ConsulTestServer consul;
    private Map<String, String> env;
    private RealControllerCli cli;

    @BeforeEach
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        consul = ConsulTestServer.start("dc1");
        cli = RealControllerCli.adminOf(federation, dir.resolve("home"));
        env = cli.env();
    }

    @AfterEach
    void stop() {
        consul.close();
        federation.close();
    }


    private Result run(String... args) {
        return cli.run(args);
    }

    @Test
    void joinListLeaveWithTheRenderedPolicy() throws Exception {
        Result policy = run("consul", "render-policy", "--network", "legacy", "--publish", "hello.demo");
        assertThat(policy.exit()).as(policy.err()).isZero();
        assertThat(policy.out()).isEqualTo("""
                # meshfed Consul member of network legacy: least-privilege ACL policy
                # read the catalog and every instance's health (health reads need node:read)
                service_prefix "" { policy = "read" }
                node_prefix "" { policy = "read" }
                # the synthetic node that imported services are registered on
                node "meshfed-gateway-legacy" { policy = "write" }
                # imported services, registered as <name>-<namespace>
                service "hello-demo" { policy = "write" }
                """);
        assertThat(run("consul", "render-policy", "--network", "legacy", "--publish", "hello").err())
                .contains("--publish 'hello' is not NAME.NAMESPACE (e.g. hello.demo)");

        consul.node("vm-1", "10.0.0.1", Map.of());
        consul.service("vm-1", "billing-1", "billing", List.of("meshfed-export"), Map.of(), "", 9000, "passing");
        consul.enableAcls();
        // The policy as rendered: exactly its rules.
        String secret = consul.createToken("meshfed", ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ),
                ConsulAcl.Rule.prefix("node", "", ConsulAcl.Access.READ),
                ConsulAcl.Rule.exact("node", "meshfed-gateway-legacy", ConsulAcl.Access.WRITE),
                ConsulAcl.Rule.exact("service", "hello-demo", ConsulAcl.Access.WRITE));
        Path tokenFile = dir.resolve("consul.token");
        Files.writeString(tokenFile, secret + "\n");
        String[] join = {"consul", "join", "dc1", "--address", consul.address().toString(), "--network", "legacy",
            "--token-file", tokenFile.toString(), "--gateway-address", "127.0.40.1:15443"};

        Result joined = run(join);
        assertThat(joined.exit()).as(joined.err()).isZero();
        assertThat(joined.out()).contains("[1/3] token").contains("[2/3] controller: member dc1 (dc1.acme.mesh)")
                .contains("registered, datacenter dc1, generation 1")
                .contains("✔ agent " + consul.address() + " answers; datacenter dc1 (the agent's own)")
                .contains("✔ token may write node meshfed-gateway-legacy")
                .contains("[3/3] first sync").contains("1 service(s) imported from Consul")
                .contains("consul member dc1 joined");
        assertThat(joined.out() + joined.err()).doesNotContain(secret);
        Result again = run(join);
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out()).contains("generation 1");

        Result list = run("consul", "list");
        assertThat(list.out()).contains("MEMBER").contains("dc1").contains("legacy").contains("synced");
        assertThat(run("consul", "list", "-o", "json").out()).contains("\"state\": \"synced\"");

        Result left = run("consul", "leave", "dc1");
        assertThat(left.exit()).as(left.err()).isZero();
        assertThat(left.out()).contains("[1/1] controller: member dc1").contains("removed");
        assertThat(run("consul", "leave", "dc1").out()).contains("not registered (nothing to do)");
        assertThat(run("consul", "list").out()).doesNotContain("dc1");
    }

    @Test
    void refusalsAreOneLineNamingTheCause() throws Exception {
        consul.enableAcls();
        String readOnly = consul.createToken("ro", ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ));
        Path tokenFile = dir.resolve("ro.token");
        Files.writeString(tokenFile, readOnly);
        Result r = run("consul", "join", "dc1", "--address", consul.address().toString(), "--network", "legacy",
                "--token-file", tokenFile.toString(), "--gateway-address", "127.0.40.1:15443");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err().strip().lines()).singleElement().satisfies(line -> assertThat(line)
                .startsWith("meshfed: ").contains("may not write node 'meshfed-gateway-legacy'")
                .contains("node \"meshfed-gateway-legacy\" { policy = \"write\" }"));
        assertThat(r.err()).doesNotContain(readOnly);

        Result wrongDc = run("consul", "join", "dc1", "--address", consul.address().toString(), "--network",
                "legacy", "--datacenter", "dc7", "--gateway-address", "127.0.40.1:15443");
        assertThat(wrongDc.err()).contains("datacenter 'dc7' is not known to the Consul agent");
        Result missing = run("consul", "join", "dc1", "--address", consul.address().toString(), "--network",
                "legacy", "--token-file", dir.resolve("nope").toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("cannot read token file");
        Result usage = run("consul", "join", "dc1", "--network", "legacy");
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.err()).contains("Missing required option: '--address=URL'");
    }
}
