package io.meshfed.agent;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.api.v1.Role;
import io.meshfed.client.JoinTokenSource;
import io.meshfed.client.Joiner;
import io.meshfed.client.StateDir;
import io.meshfed.dataplane.ProxyOptions;
import io.meshfed.launcher.Foreground;
import io.meshfed.launcher.OneLineErrorHandler;
import io.meshfed.launcher.ProcessLogging;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshfed-agent}: {@code join} once with a token, then {@code run}. */
@Command(name = "meshfed-agent", mixinStandardHelpOptions = true, subcommands = {AgentMain.Join.class,
    AgentMain.Run.class}, description = {"Brings this VM into the mesh. Join once with a token; the identity is kept in",
        "the state directory named in agent.yaml (owner-only) and renewed with itself, so no second token is needed."})
public final class AgentMain implements Callable<Integer> {
    static final String PROGRAM = "meshfed-agent";
    static final String DEFAULT_CONFIG = "/etc/meshfed/agent.yaml";

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.err);
        return 2;
    }

    @Command(name = "join", mixinStandardHelpOptions = true,
            description = "Join the federation with a token: make a key here, get an SVID, keep both in the state directory.")
    static final class Join implements Callable<Integer> {
        @Option(names = "--controller", required = true, paramLabel = "HOST:PORT")
        String controller;

        @Option(names = "--token", paramLabel = "TOKEN", description = {"Join token (meshfed token create --member",
            "MEMBER --role agent). Prefer the MESHFED_JOIN_TOKEN environment variable: a flag is visible to every",
            "user in the process list."})
        String token;

        @Option(names = "--config", paramLabel = "FILE", description = "agent.yaml (default: $MESHFED_AGENT_CONFIG or "
                + DEFAULT_CONFIG + ").")
        Path config;

        @Override
        public Integer call() throws Exception {
            AgentConfig c = AgentConfig.load(configPath(config));
            StateDir state = new StateDir(c.stateDir());
            if (state.hasIdentity()) {
                System.out.println("already joined as " + state.svid().id() + " (identity in " + c.stateDir()
                        + "); the token was not used. To join anew, remove that directory first.");
                return 0;
            }
            String joinToken = JoinTokenSource.resolve(token, System.getenv()).orElseThrow(() ->
                    new IllegalArgumentException("a join token is needed: set " + JoinTokenSource.ENVIRONMENT_VARIABLE
                            + " or pass --token (" + JoinTokenSource.createCommand(c.member(), "agent") + ")"));
            String inbound = c.inboundAdvertise() != null ? c.inboundAdvertise()
                    : c.address() + ":" + c.inboundListen().getPort();
            Joiner.join(controller, joinToken, new Joiner.Identity(Role.ROLE_AGENT, c.member(), c.name(), c.namespace(),
                    List.of(inbound)), state, Clock.systemUTC());
            System.out.println("joined as " + state.svid().id() + "; identity in " + c.stateDir()
                    + ". Start the agent with: meshfed-agent run --config " + c.file());
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the agent in the foreground until SIGTERM or Ctrl-C.")
    static final class Run implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "agent.yaml (default: $MESHFED_AGENT_CONFIG or "
                + DEFAULT_CONFIG + ").")
        Path config;

        @picocli.CommandLine.Mixin
        ProxyOptions proxy;

        @Override
        public Integer call() throws Exception {
            AgentConfig c = AgentConfig.load(configPath(config));
            AgentNode node = AgentNode.start(c, proxy.settings(), Clock.systemUTC());
            return Foreground.of(PROGRAM).serveUntilShutdown(node, "meshfed agent ready: " + node.id() + ", mTLS "
                    + node.inbound());
        }
    }

    static Path configPath(Path flag) {
        if (flag != null) {
            return flag;
        }
        String env = System.getenv("MESHFED_AGENT_CONFIG");
        return Path.of(env != null && !env.isBlank() ? env : DEFAULT_CONFIG);
    }

    public static void main(String[] args) {
        ProcessLogging.configure();
        System.exit(run(args));
    }

    static int run(String... args) {
        return run(new CommandLine(new AgentMain()), args);
    }

    /** As {@link #run(String...)}, with errors written to {@code err}. */
    static int run(java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new AgentMain());
        cli.setErr(err);
        return run(cli, args);
    }

    private static int run(CommandLine cli, String... args) {
        cli.setExecutionExceptionHandler(new OneLineErrorHandler(PROGRAM));
        return cli.execute(args);
    }
}
