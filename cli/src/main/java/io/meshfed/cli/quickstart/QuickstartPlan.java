package io.meshfed.cli.quickstart;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.agent.config.AgentConfigWriter;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.cli.quickstart.Layout.Net;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What {@code meshfed quickstart} does, decided from its options before anything runs: the directories, the
 * addresses that must be free, the join tokens, every process with its arguments, the agents' {@code agent.yaml},
 * the edge routes and the progress steps. A value with no I/O; {@link QuickstartCommand} carries it out and
 * {@link #describe()} prints it (the golden-file test compares that text).
 */
final class QuickstartPlan {
    static final List<Net> NETWORKS = List.of(Layout.EAST, Layout.WEST);
    private static final String AGENT_YAML_HEADER =
            "# Written by meshfed quickstart. The format is in the README (VM agent).\n";
    private static final Duration CHECK_INTERVAL = Duration.ofSeconds(2);
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);
    private static final String HEALTH_PATH = "/healthz";

    /** A join token the quickstart creates: for one member and role, agents limited to their own service. */
    record Grant(String member, Role role, List<String> services) {}

    /**
     * One process: its name (and log file name), the artifact it runs, its arguments, the token it gets in
     * {@code MESHFED_JOIN_TOKEN}, and the line its log shows when it is ready (empty: it runs to completion).
     */
    record Launch(String name, String jar, List<String> args, Optional<Grant> token, Optional<String> readyLine) {}

    /** A progress line; each {@code {}} is filled with what only the run knows (trust domains, a port, the time). */
    record Step(String template) {
        String line(int number, int total, Object... values) {
            StringBuilder text = new StringBuilder();
            int from = 0;
            for (Object v : values) {
                int at = template.indexOf("{}", from);
                text.append(template, from, at).append(v);
                from = at + 2;
            }
            return "[" + number + "/" + total + "] " + text.append(template.substring(from));
        }
    }

    private final Path dir;
    private final Path absoluteDir;

    private QuickstartPlan(Path dir, Path absoluteDir) {
        this.dir = dir;
        this.absoluteDir = absoluteDir;
    }

    /**
     * The plan for {@code --dir dir}; paths a child process keeps (state directories) are made absolute against
     * {@code workingDirectory}, the others are printed as given.
     */
    static QuickstartPlan forDirectory(Path dir, Path workingDirectory) {
        return new QuickstartPlan(dir, workingDirectory.resolve(dir));
    }

    Path directory() {
        return dir;
    }

    Path adminHome() {
        return dir.resolve("admin");
    }

    Path logs() {
        return dir.resolve("logs");
    }

    Path controllerDir() {
        return dir.resolve("controller");
    }

    Path marker() {
        return dir.resolve(QuickstartCommand.MARKER);
    }

    List<Layout.Listener> listeners() {
        return Layout.listeners();
    }

    Grant gatewayToken(Net n) {
        return new Grant(n.name(), Role.ROLE_GATEWAY, List.of());
    }

    /** The agent may register its own sample service, nothing else. */
    Grant agentToken(Net n) {
        return new Grant(n.name(), Role.ROLE_AGENT, List.of(n.service() + "." + Layout.NAMESPACE));
    }

    Grant edgeToken(Net n) {
        return new Grant(n.name(), Role.ROLE_EDGE, List.of());
    }

    /** Every token, in the order they are made: gateway, agent and edge of east, then of west. */
    List<Grant> tokens() {
        List<Grant> all = new ArrayList<>();
        for (Net n : NETWORKS) {
            all.addAll(List.of(gatewayToken(n), agentToken(n), edgeToken(n)));
        }
        return all;
    }

    Launch controllerInit() {
        return new Launch("controller-init", Artifacts.CONTROLLER, List.of("init", "--controller", Layout.CONTROLLER,
                "--data-dir", controllerDir().toString()), Optional.empty(), Optional.empty());
    }

    Launch controller() {
        return new Launch("controller", Artifacts.CONTROLLER, List.of("--data-dir", controllerDir().toString()),
                Optional.empty(), Optional.of("meshfed controller ready"));
    }

    Launch sampleService(Net n) {
        return new Launch(n.service() + "-service", Artifacts.SAMPLE, List.of("--mode", n.mode(), "--service",
                n.service() + "." + Layout.NAMESPACE, "--network", n.name(), "--listen", n.app()), Optional.empty(),
                Optional.of("serving"));
    }

    Launch agentJoin(Net n) {
        return new Launch(n.name() + "-agent-join", Artifacts.AGENT, List.of("join", "--controller",
                Layout.CONTROLLER, "--config", agentConfigFile(n).toString()), Optional.of(agentToken(n)),
                Optional.empty());
    }

    Launch agent(Net n) {
        return new Launch(n.name() + "-agent", Artifacts.AGENT, List.of("run", "--config",
                agentConfigFile(n).toString(), "--drain-timeout", "2s"), Optional.empty(),
                Optional.of("meshfed agent ready"));
    }

    Launch gateway(Net n) {
        return new Launch(n.name() + "-gateway", Artifacts.GATEWAY, List.of("--controller", Layout.CONTROLLER,
                "--member", n.name(), "--name", n.gatewayName(), "--state-dir",
                dir.resolve(n.name()).resolve("gateway").toString(), "--listen", n.gateway(), "--tunnel-listen",
                n.gatewayTunnel(), "--http-listen", n.gatewayHttp(), "--outbound-bind", n.gatewayHost(), "--drain-timeout", "2s"),
                Optional.of(gatewayToken(n)), Optional.of("meshfed gateway ready"));
    }

    /** The edge gateway, in west. */
    Launch edge() {
        return new Launch("edge-gateway", Artifacts.EDGE, List.of("--server.address=127.0.0.1",
                "--server.port=" + Layout.parse(Layout.EDGE).getPort(),
                "--meshfed.edge.controller=" + Layout.CONTROLLER,
                "--meshfed.edge.member=west", "--meshfed.edge.name=west-edge",
                "--meshfed.edge.state-dir=" + absoluteDir.resolve("west").resolve("edge"),
                "--management.server.port=" + Layout.parse(Layout.EDGE_MANAGEMENT).getPort()),
                Optional.of(edgeToken(Layout.WEST)), Optional.of("Started EdgeApplication"));
    }

    /** Every process in the order the quickstart starts them. */
    List<Launch> launches() {
        List<Launch> all = new ArrayList<>(List.of(controllerInit(), controller()));
        NETWORKS.forEach(n -> all.add(sampleService(n)));
        NETWORKS.forEach(n -> all.add(agentJoin(n)));
        for (Net n : NETWORKS) {
            all.add(agent(n));
            all.add(gateway(n));
        }
        all.add(edge());
        return all;
    }

    Path agentConfigFile(Net n) {
        return dir.resolve(n.name()).resolve("agent.yaml");
    }

    /** The agent of network {@code n}: its sample service behind it, and in west hello.demo imported. */
    AgentConfig agentConfig(Net n) {
        List<AgentConfig.Import> imports = n == Layout.WEST
                ? List.of(new AgentConfig.Import(Layout.EAST.service(), Layout.NAMESPACE, Layout.SERVICE_PORT,
                        Layout.parse(Layout.westImport())))
                : List.of();
        return new AgentConfig(agentConfigFile(n), n.name(), n.vmName(), Layout.NAMESPACE,
                absoluteDir.resolve(n.name()).resolve("agent"), n.vmHost(), "", Layout.parse(n.agent()), null,
                Layout.parse(n.agentHttp()), CHECK_INTERVAL, CHECK_TIMEOUT,
                List.of(new AgentConfig.LocalService(n.service(), Layout.NAMESPACE, Layout.SERVICE_PORT,
                        Layout.parse(n.app()), AgentConfig.Protocol.HTTP, HEALTH_PATH)),
                imports);
    }

    /** The text of {@link #agentConfigFile}. */
    String agentYaml(Net n) {
        return AGENT_YAML_HEADER + AgentConfigWriter.yaml(agentConfig(n));
    }

    RouteSet edgeRoutes() {
        return EdgeRoutes.quickstart();
    }

    List<Step> steps() {
        return List.of(
                new Step("controller: creating the federation and its CAs in " + controllerDir()),
                new Step("controller ready on " + Layout.CONTROLLER + " (gRPC, mTLS) and " + Layout.CONTROLLER_HTTPS
                        + " (HTTPS)"),
                new Step("networks east and west, members east ({}) and west ({}), join tokens made"),
                new Step("VM agents joined; agents, gateways and sample services starting"),
                new Step("east: gateway " + Layout.EAST.gateway() + ", agent " + Layout.EAST.agent()
                        + " -> hello.demo on " + Layout.EAST.app() + "; west: gateway " + Layout.WEST.gateway()
                        + ", agent " + Layout.WEST.agent() + " -> echo.demo on " + Layout.WEST.app()),
                new Step("hello.demo exported to west; west's gateway listens for it on " + Layout.WEST.gatewayHost()
                        + ":{}"),
                new Step("edge gateway on " + Layout.EDGE
                        + " (west): /hello/** -> lb://hello.demo, /echo/** -> lb://echo.demo"),
                new Step("ready in {} s: hello.demo in east answers from west through both gateways"));
    }

    /** The whole plan as text: what the golden-file test compares. */
    String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("directory ").append(dir).append(" (").append(absoluteDir).append("), admin home ")
                .append(adminHome()).append(", logs ").append(logs()).append(", state ").append(marker()).append('\n');
        sb.append("\nlisteners, checked free before anything starts:\n");
        for (Layout.Listener l : listeners()) {
            sb.append("  ").append(l.address().getHostString()).append(':').append(l.address().getPort())
                    .append("  ").append(l.owner()).append('\n');
        }
        sb.append("\njoin tokens:\n");
        for (Grant g : tokens()) {
            sb.append("  ").append(grant(g)).append('\n');
        }
        sb.append("\nprocesses, in start order:\n");
        for (Launch l : launches()) {
            sb.append("  ").append(l.name()).append(": ").append(l.jar()).append(' ')
                    .append(String.join(" ", l.args())).append('\n');
            sb.append("    ").append(l.readyLine().map(r -> "ready at \"" + r + "\"").orElse("runs to completion"))
                    .append(l.token().map(t -> "; token " + grant(t)).orElse("")).append('\n');
        }
        for (Net n : NETWORKS) {
            sb.append('\n').append(agentConfigFile(n)).append(":\n");
            agentYaml(n).lines().forEach(line -> sb.append("  ").append(line).append('\n'));
        }
        sb.append("\nedge routes:\n");
        for (Route r : edgeRoutes().getRoutesList()) {
            sb.append("  ").append(r.getId()).append(": ").append(definitions(r.getPredicatesList())).append(" -> ")
                    .append(r.getUri()).append(", filters ").append(definitions(r.getFiltersList())).append('\n');
        }
        sb.append("\nsteps:\n");
        List<Step> steps = steps();
        for (int i = 0; i < steps.size(); i++) {
            sb.append("  ").append(steps.get(i).line(i + 1, steps.size())).append('\n');
        }
        return sb.toString();
    }

    private static String grant(Grant g) {
        return g.member() + " " + g.role().name().replace("ROLE_", "").toLowerCase(java.util.Locale.ROOT)
                + (g.services().isEmpty() ? "" : " (may register " + String.join(", ", g.services()) + ")");
    }

    private static String definitions(List<RouteDefinition> defs) {
        return defs.stream().map(d -> d.getName() + "=" + d.getArgsList().stream().map(a -> a.getValue())
                .collect(Collectors.joining(","))).collect(Collectors.joining(" "));
    }
}
