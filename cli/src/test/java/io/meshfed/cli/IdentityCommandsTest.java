package io.meshfed.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed identity list|revoke} against a controller with fixed answers over real mTLS; output compared with
 * golden files in src/test/resources/golden (regenerate with -Dgolden.update=true and review the diff).
 */
class IdentityCommandsTest {
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

    private Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), controller.env());
        return new Result(code, out.toString(), err.toString());
    }

    private void golden(String name, String... args) throws Exception {
        Result r = run(args);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        Path source = Path.of("src/test/resources/golden", name);
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(source, r.out());
        }
        assertThat(r.out()).as("golden file " + source).isEqualTo(Files.readString(source, StandardCharsets.UTF_8));
    }

    @Test
    void listShowsEachIdentityWithRoleScopeAndStateAndNarrowsToAMember() throws Exception {
        golden("identity-list.txt", "identity", "list");
        golden("identity-list.json", "identity", "list", "-o", "json");
        Result west = run("identity", "list", "--member", "west");
        assertThat(west.exit()).isZero();
        assertThat(west.out()).contains("spiffe://west.acme.mesh/ns/demo/vm/vm-2").doesNotContain("east.acme.mesh");
    }

    @Test
    void revokeShowsTheIdentityRevokedAndListThenShowsItRevoked() throws Exception {
        golden("identity-revoke.txt", "identity", "revoke", "spiffe://east.acme.mesh/ns/demo/vm/vm-1");
        Result again = run("identity", "revoke", "spiffe://east.acme.mesh/ns/demo/vm/vm-1");
        assertThat(again.exit()).as("revoking again is not an error").isZero();
        assertThat(again.out()).contains("revoked 2026-11-22T11:00:00Z");
        assertThat(run("identity", "list").out()).containsPattern(
                "spiffe://east.acme.mesh/ns/demo/vm/vm-1 +east +agent +hello.demo +2026-11-22T10:00:00Z +revoked"
                        + " 2026-11-22T11:00:00Z");
    }

    @Test
    void anUnknownIdentityOrMemberIsNamedInOneLine() {
        Result unknown = run("identity", "revoke", "spiffe://east.acme.mesh/ns/demo/vm/ghost");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("meshfed: no identity spiffe://east.acme.mesh/ns/demo/vm/ghost joined"
                + " this federation; 'meshfed identity list' shows those that did\n");
        Result member = run("identity", "list", "--member", "ghost");
        assertThat(member.exit()).isEqualTo(1);
        assertThat(member.err()).isEqualTo("meshfed: member 'ghost' does not exist; 'meshfed members' lists them\n");
        assertThat(run("identity", "revoke").exit()).as("the SPIFFE ID is required").isEqualTo(2);
    }
}
