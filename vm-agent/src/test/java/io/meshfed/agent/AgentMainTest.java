package io.meshfed.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code meshfed-agent} tells a user who starts it wrong: one line naming what to do, and exit code 1. */
class AgentMainTest {
    @TempDir
    Path dir;

    private Path config;

    @BeforeEach
    void writeConfig() throws IOException {
        assumeTrue(System.getenv("MESHFED_JOIN_TOKEN") == null, "MESHFED_JOIN_TOKEN is set in this environment");
        config = dir.resolve("agent.yaml");
        Files.writeString(config, "member: east\nname: vm-1\nnamespace: demo\nstateDir: " + dir.resolve("state")
                + "\naddress: 127.0.1.2\nservices:\n  - name: hello\n    port: 8080\n");
    }

    private record Result(int exitCode, String err) {}

    private static Result agent(String... args) {
        StringWriter err = new StringWriter();
        int code = AgentMain.run(new PrintWriter(err, true), args);
        return new Result(code, err.toString());
    }

    @Test
    void joiningWithoutATokenSaysWhereToPutOneAndHowToMakeIt() {
        String expected = "meshfed-agent: a join token is needed: set MESHFED_JOIN_TOKEN or pass --token"
                + " (meshfed token create --member east --role agent)" + System.lineSeparator();
        Result none = agent("join", "--controller", "127.0.0.1:15012", "--config", config.toString());
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).isEqualTo(expected);

        Result blank = agent("join", "--controller", "127.0.0.1:15012", "--token", "  ", "--config",
                config.toString());
        assertThat(blank.exitCode()).isEqualTo(1);
        assertThat(blank.err()).isEqualTo(expected);
    }

    @Test
    void runningBeforeJoiningSaysToJoinFirst() {
        Result r = agent("run", "--config", config.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("meshfed-agent: ").contains("holds no identity: run `meshfed-agent join")
                .doesNotContain("\tat ");
    }
}
