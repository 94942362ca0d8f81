package io.meshfed.cli;

import io.meshfed.cli.RealControllerCli.Result;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.controller.testing.TestFederation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed authz allow|deny|list|delete} against a real controller (TestFederation: SQLite store, gRPC over
 * mTLS with the admin SVID). Policy ids are derived from their content, so the list's output is a golden file
 * (src/test/resources/golden; regenerate with -Dgolden.update=true and review the diff).
 */
class AuthzCommandsTest {
    private static final String EXTRA_VMS = "spiffe://west-extra.acme.mesh/ns/demo/vm/*";

    @TempDir
    Path dir;
    private TestFederation federation;
    private Map<String, String> env;
    private RealControllerCli cli;

    @BeforeEach
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        cli = RealControllerCli.adminOf(federation, dir.resolve("home"));
        env = cli.env();
    }

    @AfterEach
    void stop() {
        federation.close();
    }


    private Result run(String... args) {
        return cli.run(args);
    }

    private Result ok(String... args) {
        return cli.ok(args);
    }

    private void golden(String name, String... args) throws Exception {
        Result r = ok(args);
        Path source = Path.of("src/test/resources/golden", name);
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(source, r.out());
        }
        assertThat(r.out()).as("golden file " + source).isEqualTo(Files.readString(source, StandardCharsets.UTF_8));
    }

    @Test
    void allowDenyListAndDeleteChangeTheControllersPolicies() throws Exception {
        Result allow = ok("authz", "allow", "hello.demo", "--from", EXTRA_VMS);
        assertThat(allow.out()).containsPattern("[0-9a-f]{12} +hello\\.demo +allow +" + EXTRA_VMS.replace("*", "\\*"));
        assertThat(ok("authz", "allow", "hello.demo", "--from", EXTRA_VMS).out()).as("the same policy again")
                .isEqualTo(allow.out());
        ok("authz", "deny", "hello.demo", "--from", "spiffe://west-extra.acme.mesh/ns/demo/vm/vm-9");
        ok("authz", "deny", "echo", "--from", "spiffe://west.acme.mesh");

        var stored = federation.admin().listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesList();
        assertThat(stored).extracting(p -> p.getService() + "." + p.getNamespace() + " " + p.getEffect() + " "
                + p.getFrom()).containsExactly(
                        "echo.default DENY spiffe://west.acme.mesh",
                        "hello.demo ALLOW " + EXTRA_VMS,
                        "hello.demo DENY spiffe://west-extra.acme.mesh/ns/demo/vm/vm-9");
        golden("authz-list.txt", "authz", "list");
        golden("authz-list.json", "authz", "list", "-o", "json");

        String id = stored.get(1).getId();
        Result deleted = ok("authz", "delete", id);
        assertThat(deleted.out()).contains(id).contains("allow");
        assertThat(federation.admin().listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesList())
                .extracting(p -> p.getEffect()).containsExactly(CallerRule.Effect.DENY, CallerRule.Effect.DENY);
    }

    @Test
    void mistakesAreNamedInOneLine() throws Exception {
        Result missing = run("authz", "delete", "0123456789ab");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("meshfed: caller policy '0123456789ab' does not exist; 'meshfed authz list'"
                + " shows the policies\n");
        Result pattern = run("authz", "allow", "hello.demo", "--from", "spiffe://west.acme.mesh/ns/*/vm/x");
        assertThat(pattern.exit()).isEqualTo(1);
        assertThat(pattern.err()).startsWith("meshfed: from: invalid SPIFFE ID pattern"
                + " 'spiffe://west.acme.mesh/ns/*/vm/x': it may use '*' only as its whole last path segment")
                .endsWith("\n").hasLineCount(1);
        Result service = run("authz", "deny", "hello.demo.x", "--from", "spiffe://west.acme.mesh");
        assertThat(service.exit()).isEqualTo(2);
        assertThat(service.err()).contains("'hello.demo.x' is not SERVICE.NAMESPACE");
        assertThat(run("authz", "allow", "hello.demo").exit()).as("--from is required").isEqualTo(2);
        assertThat(run("authz", "allow", "hello.demo").err()).contains("--from");
        assertThat(federation.admin().listCallerPolicies(ListRequest.getDefaultInstance()).getPoliciesCount())
                .isZero();
    }
}
