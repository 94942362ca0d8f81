package io.meshfed.cli.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.cli.context.CliContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The quickstart's plan: printed for the default options it equals src/test/resources/golden/quickstart-plan.txt
 * (regenerate with -Dgolden.update=true and review the diff: a changed port, argument, token or step shows there,
 * and the README and the e2e tests rely on them), and the agent.yaml it writes is what the agent reads.
 */
class QuickstartPlanTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden/quickstart-plan.txt");

    @TempDir
    Path temp;

    /** {@code --dir} as picocli fills it when the user gives no option. */
    private static Path defaultDir() {
        StringWriter sink = new StringWriter();
        QuickstartCommand command = new QuickstartCommand(new CliContext(Map.of(), new PrintWriter(sink),
                new PrintWriter(sink), Clock.systemUTC()));
        new CommandLine(command).parseArgs();
        return command.dir;
    }

    @Test
    void thePlanForTheDefaultOptionsMatchesItsGoldenFile() throws Exception {
        String actual = QuickstartPlan.forDirectory(defaultDir(), Path.of("/home/alice")).describe();
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(GOLDEN, actual);
        }
        assertThat(actual).as("golden file " + GOLDEN).isEqualTo(Files.readString(GOLDEN, StandardCharsets.UTF_8));
    }

    @Test
    void stepLinesAreNumberedOutOfEightWithTheRunsValuesFilledIn() {
        List<QuickstartPlan.Step> steps = QuickstartPlan.forDirectory(Path.of("qs"), Path.of("/w")).steps();

        assertThat(steps).hasSize(8);
        assertThat(steps.get(0).line(1, 8)).isEqualTo("[1/8] controller: creating the federation and its CAs in"
                + " qs/controller");
        assertThat(steps.get(2).line(3, 8, "east.meshfed.local", "west.meshfed.local")).isEqualTo("[3/8] networks"
                + " east and west, members east (east.meshfed.local) and west (west.meshfed.local), join tokens made");
        assertThat(steps.get(5).line(6, 8, 20001)).isEqualTo("[6/8] hello.demo exported to west; west's gateway"
                + " listens for it on 127.0.2.1:20001");
        assertThat(steps.get(7).line(8, 8, "12.3")).startsWith("[8/8] ready in 12.3 s: ");
    }

    @Test
    void eachAgentYamlLoadsWithTheAgentsReaderToThePlannedConfig() throws Exception {
        QuickstartPlan plan = QuickstartPlan.forDirectory(temp.resolve("quickstart"), Path.of("/unused"));
        for (Layout.Net n : QuickstartPlan.NETWORKS) {
            Path file = plan.agentConfigFile(n);
            Files.createDirectories(file.getParent());
            Files.writeString(file, plan.agentYaml(n));

            AgentConfig read = AgentConfig.load(file);

            assertThat(read).isEqualTo(plan.agentConfig(n));
            assertThat(read.services()).extracting(AgentConfig.LocalService::key)
                    .containsExactly(n.service() + ".demo:8080");
            assertThat(read.stateDir()).isEqualTo(temp.resolve("quickstart").resolve(n.name()).resolve("agent"));
        }
        assertThat(AgentConfig.load(plan.agentConfigFile(Layout.WEST)).imports())
                .extracting(AgentConfig.Import::key, i -> i.listen().toString())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("hello.demo:8080", "/127.0.2.2:18080"));
    }

    @Test
    void agentsGetOnlyTheirOwnServiceInTheirTokenAndTokensOnlyInTheEnvironment() {
        QuickstartPlan plan = QuickstartPlan.forDirectory(Path.of("quickstart"), Path.of("/w"));

        assertThat(plan.agentJoin(Layout.EAST).token()).contains(plan.agentToken(Layout.EAST));
        assertThat(plan.agentToken(Layout.EAST).services()).containsExactly("hello.demo");
        assertThat(plan.launches()).allSatisfy(l -> assertThat(String.join(" ", l.args())).doesNotContain("token"));
    }
}
