package io.meshfed.cli.quickstart;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc.AdminServiceBlockingStub;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Member;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.quickstart.Layout.Net;
import io.meshfed.cli.quickstart.QuickstartPlan.Grant;
import io.meshfed.cli.quickstart.QuickstartPlan.Launch;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.TrustDomain;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshfed quickstart}: a complete local federation on loopback, on the embedded defaults, as separate
 * processes: the controller, networks east and west with an east-west gateway and a VM agent each, and a sample
 * service behind each agent; hello.demo (east) exported to west. Runs until Ctrl-C, or with {@code --smoke} checks
 * one cross-network call and one refused call, then stops.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"Start a local federation on loopback: controller, networks east (127.0.1.x) and west",
            "(127.0.2.x) with a gateway and a VM agent each, sample services hello.demo (east, exported to west) and",
            "echo.demo (west). Logs and quickstart.json go to --dir. Runs until Ctrl-C."})
public final class QuickstartCommand implements Callable<Integer> {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final String MARKER = "quickstart.json";

    private final CliContext context;

    @Option(names = "--dir", defaultValue = "quickstart", paramLabel = "DIR",
            description = "Where state, logs and quickstart.json go (default ${DEFAULT-VALUE}); wiped at each start.")
    Path dir;

    @Option(names = "--smoke", description = "Check a cross-network call and a refused call, stop everything, and"
            + " exit 0 only when both behaved.")
    boolean smoke;

    private PrintWriter out;
    private QuickstartPlan plan;
    private int step;
    private final Map<Grant, String> tokens = new HashMap<>();

    QuickstartCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        out = context.out();
        plan = QuickstartPlan.forDirectory(dir, Path.of("").toAbsolutePath());
        Artifacts artifacts = Artifacts.locate(context.environment());
        checkPortsFree();
        prepareDirectory();
        Path adminHome = plan.adminHome();
        Map<String, String> env = Map.of("MESHFED_HOME", adminHome.toString());
        Supervisor supervisor = new Supervisor(plan.logs());
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            supervisor.close();
            stopped.countDown();
        }, "quickstart-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Map<String, Object> state = start(artifacts, supervisor, env, adminHome);
            if (smoke) {
                boolean ok = new Smoke(out, adminHome, state).run();
                progress("stopping everything");
                return ok ? 0 : 1;
            }
            printTryIt(state);
            out.flush();
            stopped.await(); // until Ctrl-C runs the hook
            return 0;
        } finally {
            if (smoke || stopped.getCount() > 0) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                    supervisor.close();
                } catch (IllegalStateException shuttingDown) {
                    // the hook is already stopping everything
                }
            }
        }
    }

    private void progress(String what) {
        out.println("quickstart: " + what);
        out.flush();
    }

    /** Prints the plan's next step, its blanks filled with {@code values}. */
    private void step(Object... values) {
        List<QuickstartPlan.Step> steps = plan.steps();
        out.println(steps.get(step).line(step + 1, steps.size(), values));
        step++;
        out.flush();
    }

    /** Fails before anything starts when an address is taken or cannot be bound (no 127.0.x.y aliases). */
    private void checkPortsFree() {
        List<String> problems = new ArrayList<>();
        for (Layout.Listener l : plan.listeners()) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(l.address());
            } catch (IOException e) {
                problems.add(l.address().getHostString() + ":" + l.address().getPort() + " (" + l.owner() + "): "
                        + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new CliException("cannot start the quickstart, " + String.join("; ", problems)
                    + ". Is another quickstart or controller running? (see " + plan.marker() + ")");
        }
    }

    private void prepareDirectory() throws IOException {
        if (Files.isDirectory(dir)) {
            boolean ours = Files.exists(dir.resolve(MARKER)) || Files.exists(dir.resolve("logs"));
            try (Stream<Path> entries = Files.list(dir)) {
                if (!ours && entries.findAny().isPresent()) {
                    throw new CliException(dir + " exists and is not a quickstart directory; choose another --dir");
                }
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
    }

    private List<String> java(Artifacts a, Launch launch) {
        List<String> cmd = new ArrayList<>(List.of(a.java().toString()));
        String opts = context.environment().getOrDefault("MESHFED_QUICKSTART_JAVA_OPTS",
                "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m");
        if (!opts.isBlank()) {
            cmd.addAll(List.of(opts.trim().split("\\s+")));
        }
        cmd.addAll(List.of("-jar", a.jar(launch.jar()).toString()));
        cmd.addAll(launch.args());
        return cmd;
    }

    /**
     * The environment of a launch: the quickstart's, and its join token in {@code MESHFED_JOIN_TOKEN} (never on the
     * command line, which every user sees in ps).
     */
    private Map<String, String> environment(Launch launch, Map<String, String> env) {
        Map<String, String> m = new LinkedHashMap<>(env);
        launch.token().ifPresent(grant -> m.put("MESHFED_JOIN_TOKEN", tokens.get(grant)));
        return m;
    }

    private Supervisor.Child start(Supervisor sup, Artifacts a, Launch launch, Map<String, String> env) {
        return sup.start(launch.name(), java(a, launch), environment(launch, env));
    }

    private void runToCompletion(Supervisor sup, Artifacts a, Launch launch, Map<String, String> env) {
        sup.runToCompletion(launch.name(), java(a, launch), environment(launch, env), START_TIMEOUT);
    }

    private static void awaitReady(Supervisor sup, Supervisor.Child child, Launch launch) {
        sup.awaitReady(child, launch.readyLine().orElseThrow(), START_TIMEOUT);
    }

    private Map<String, Object> start(Artifacts a, Supervisor sup, Map<String, String> env, Path adminHome)
            throws Exception {
        long started = System.nanoTime();
        step(); // creating the federation
        runToCompletion(sup, a, plan.controllerInit(), env);
        Supervisor.Child controller = start(sup, a, plan.controller(), env);
        Map<Net, Supervisor.Child> apps = new LinkedHashMap<>();
        for (Net n : QuickstartPlan.NETWORKS) {
            apps.put(n, start(sup, a, plan.sampleService(n), env));
        }
        awaitReady(sup, controller, plan.controller());
        step(); // controller ready

        Map<String, String> trustDomains = new LinkedHashMap<>();
        try (AdminClient admin = AdminClient.connect(Map.of("MESHFED_HOME", adminHome.toString()), context.clock())) {
            AdminServiceBlockingStub stub = admin.stub();
            for (Net n : QuickstartPlan.NETWORKS) {
                stub.createNetwork(CreateNetworkRequest.newBuilder().setName(n.name()).build());
                Member m = stub.addMember(AddMemberRequest.newBuilder().setName(n.name()).setType("vm")
                        .setNetwork(n.name()).build());
                trustDomains.put(n.name(), m.getTrustDomain());
                for (Grant g : plan.tokens()) {
                    if (g.member().equals(n.name())) {
                        tokens.put(g, stub.createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(g.member())
                                .setRole(g.role()).addAllServices(g.services()).build()).getToken());
                    }
                }
            }
        }
        step(trustDomains.get("east"), trustDomains.get("west")); // networks, members, tokens

        for (Net n : QuickstartPlan.NETWORKS) {
            Path cfg = plan.agentConfigFile(n);
            Files.createDirectories(cfg.getParent());
            Files.writeString(cfg, plan.agentYaml(n));
        }
        for (Net n : QuickstartPlan.NETWORKS) {
            runToCompletion(sup, a, plan.agentJoin(n), env);
        }
        Map<Net, Supervisor.Child> agents = new LinkedHashMap<>();
        Map<Net, Supervisor.Child> gateways = new LinkedHashMap<>();
        for (Net n : QuickstartPlan.NETWORKS) {
            agents.put(n, start(sup, a, plan.agent(n), env));
            gateways.put(n, start(sup, a, plan.gateway(n), env));
        }
        step(); // agents joined, everything starting
        for (Net n : QuickstartPlan.NETWORKS) {
            awaitReady(sup, apps.get(n), plan.sampleService(n));
            awaitReady(sup, agents.get(n), plan.agent(n));
            awaitReady(sup, gateways.get(n), plan.gateway(n));
        }
        step(); // both networks' addresses

        int outboundPort;
        try (AdminClient admin = AdminClient.connect(Map.of("MESHFED_HOME", adminHome.toString()), context.clock())) {
            admin.stub().export(ExportRequest.newBuilder().setService("hello").setNamespace(Layout.NAMESPACE)
                    .addToMembers("west").build());
            admin.stub().applyRoutes(plan.edgeRoutes());
            outboundPort = awaitHealthyAndAllocated(admin);
        }
        step(outboundPort); // exported, west's outbound listener
        String viaGateways = Layout.WEST.gatewayHost() + ":" + outboundPort;
        awaitRoute(viaGateways, "/");
        awaitRoute(Layout.westImport(), "/");
        Supervisor.Child edge = start(sup, a, plan.edge(), env);
        awaitReady(sup, edge, plan.edge());
        awaitRoute(Layout.EDGE, "/hello/");
        step(); // edge gateway
        Map<String, Object> state = describe(sup, trustDomains, viaGateways, controller, edge, apps, agents,
                gateways);
        writeJson(state);
        step(String.format("%.1f", (System.nanoTime() - started) / 1e9)); // ready
        return state;
    }

    /** Waits for hello.demo to be healthy in the catalog and for its outbound port; returns the port. */
    private int awaitHealthyAndAllocated(AdminClient admin) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (var s : admin.stub().listServices(ListRequest.getDefaultInstance()).getServicesList()) {
                boolean healthy = s.getNetworksList().stream().flatMap(x -> x.getEndpointsList().stream())
                        .anyMatch(e -> e.getHealthy());
                if (s.getName().equals("hello") && healthy && s.getOutboundPortsCount() > 0) {
                    return s.getOutboundPorts(0).getListenPort();
                }
            }
            Supervisor.sleep(200);
        }
        throw new CliException("hello.demo did not become healthy in the catalog within " + START_TIMEOUT.toSeconds()
                + " s; see " + dir.resolve("logs").resolve("east-agent.log"));
    }

    private void awaitRoute(String entry, String path) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                String body = Smoke.get(entry, path);
                if (body.startsWith("hello from hello.demo in network east")) {
                    return;
                }
                last = body;
            } catch (IOException e) {
                last = e.toString();
            }
            Supervisor.sleep(200);
        }
        throw new CliException("no answer from hello.demo through " + entry + " within " + START_TIMEOUT.toSeconds()
                + " s (last: " + last.strip() + "); logs in " + dir.resolve("logs"));
    }

    private Map<String, Object> describe(Supervisor sup, Map<String, String> tds, String viaGateways,
            Supervisor.Child controller, Supervisor.Child edge, Map<Net, Supervisor.Child> apps,
            Map<Net, Supervisor.Child> agents, Map<Net, Supervisor.Child> gateways) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("directory", dir.toAbsolutePath().toString());
        json.put("adminHome", dir.resolve("admin").toAbsolutePath().toString());
        String controllerId = MeshfedIds.controller(TrustDomain.parse("meshfed.local")).toString();
        json.put("controller", component(controller, controllerId,
                Map.of("grpc", Layout.CONTROLLER, "https", Layout.CONTROLLER_HTTPS)));
        Map<String, Object> networks = new LinkedHashMap<>();
        for (Net n : List.of(Layout.EAST, Layout.WEST)) {
            String td = tds.get(n.name());
            Map<String, Object> net = new LinkedHashMap<>();
            net.put("trustDomain", td);
            TrustDomain domain = TrustDomain.parse(td);
            net.put("gateway", component(gateways.get(n), MeshfedIds.gateway(domain, n.gatewayName()).toString(),
                    Map.of("mtls", n.gateway(), "http", n.gatewayHttp())));
            net.put("agent", component(agents.get(n), MeshfedIds.agent(domain, Layout.NAMESPACE, n.vmName())
                    .toString(), Map.of("mtls", n.agent(), "http", n.agentHttp())));
            net.put("service", component(apps.get(n), "", Map.of("name", n.service() + "." + Layout.NAMESPACE,
                    "http", n.app())));
            networks.put(n.name(), net);
        }
        json.put("networks", networks);
        json.put("edge", component(edge, MeshfedIds.edge(TrustDomain.parse(tds.get("west")), "west-edge").toString(),
                Map.of("http", Layout.EDGE, "management", Layout.EDGE_MANAGEMENT)));
        Map<String, Object> entries = new LinkedHashMap<>();
        entries.put("hello.demo from west through both gateways", viaGateways);
        entries.put("hello.demo from west through west's agent and east's gateway", Layout.westImport());
        entries.put("hello.demo from outside through the edge gateway", Layout.EDGE + "/hello/");
        entries.put("echo.demo from outside through the edge gateway", Layout.EDGE + "/echo/");
        json.put("entries", entries);
        return json;
    }

    private Map<String, Object> component(Supervisor.Child c, String spiffeId, Map<String, String> addresses) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (!spiffeId.isEmpty()) {
            m.put("spiffeId", spiffeId);
        }
        m.put("addresses", new java.util.TreeMap<>(addresses));
        m.put("pid", c.pid());
        m.put("log", c.log().toAbsolutePath().toString());
        return m;
    }

    private void writeJson(Map<String, Object> state) throws IOException {
        Path tmp = dir.resolve(MARKER + ".tmp");
        Files.writeString(tmp, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(state) + "\n");
        Files.move(tmp, dir.resolve(MARKER), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @SuppressWarnings("unchecked")
    private void printTryIt(Map<String, Object> state) {
        Map<String, Object> entries = (Map<String, Object>) state.get("entries");
        String via = (String) entries.get("hello.demo from west through both gateways");
        String home = "MESHFED_HOME=" + dir.resolve("admin");
        out.println();
        out.println("meshfed quickstart is running. Try:");
        out.println("  curl http://" + via + "/             # west -> west gateway -> east gateway -> agent -> hello.demo");
        out.println("  curl http://" + Layout.westImport() + "/          # west's agent -> east gateway -> hello.demo");
        out.println("  curl http://" + Layout.EDGE + "/hello/       # edge gateway -> east gateway -> agent -> hello.demo");
        out.println("  curl http://" + Layout.EDGE + "/echo/        # edge gateway -> west agent -> echo.demo");
        out.println("  curl http://" + Layout.EAST.gateway() + "/        # plaintext to a gateway: refused");
        out.println("  curl -s http://" + Layout.EAST.gatewayHttp() + "/metrics | grep refusals");
        out.println("  " + home + " ./meshfed services");
        out.println("  " + home + " ./meshfed status");
        out.println("  " + home + " ./meshfed route list");
        out.println("Addresses, SPIFFE IDs and logs: " + dir.resolve(MARKER) + ". Stop with Ctrl-C.");
    }
}
