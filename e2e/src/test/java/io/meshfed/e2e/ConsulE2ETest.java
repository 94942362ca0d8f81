package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.controller.connector.consul.testing.ConsulAcl;
import io.meshfed.controller.connector.consul.testing.ConsulTestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Consul datacenter as a member, with real processes: a controller; network {@code legacy} (127.0.5.x) whose
 * services live in the Consul test server (the legacy fleet: two instances of billing.shop, one critical) behind
 * its east-west gateway; network {@code east} (127.0.6.x) with billing.shop behind a VM agent; network {@code west}
 * (127.0.7.x) with a gateway and an agent that imports billing.shop. The operator joins the datacenter with
 * {@code meshfed consul join}. West reaches the passing Consul instance only, through both gateways and through
 * its agent's tunnel; when that instance's check turns critical, traffic fails over to east; a federated service
 * exported to the datacenter appears in its catalog at the legacy gateway's outbound port.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsulE2ETest {
    private static final String CONTROLLER_JAR = "federation-controller/target/meshfed-controller.jar";
    private static final String GATEWAY_JAR = "east-west-gateway/target/meshfed-gateway.jar";
    private static final String AGENT_JAR = "vm-agent/target/meshfed-agent.jar";
    private static final String SAMPLE_JAR = "sample-service/target/meshfed-sample.jar";
    private static final String CLI_JAR = "cli/target/meshfed-cli.jar";
    private static final String NODE = "meshfed-gateway-legacy";

    @TempDir
    static Path work;
    private Path logs;
    private Map<String, String> env;
    private int grpc;
    private int servicePort;
    private int westImport;
    private int westOutbound;
    private ConsulTestServer consul;
    private Component legacyGateway;
    private final List<Component> components = new ArrayList<>();

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        }
    }

    private AdminClient admin() {
        return AdminClient.connect(env);
    }

    private String token(String member, Role role) {
        try (AdminClient a = admin()) {
            CreateJoinTokenRequest.Builder r = CreateJoinTokenRequest.newBuilder().setMember(member).setRole(role);
            if (role == Role.ROLE_AGENT) {
                r.addServices("billing.shop").addServices("ledger.shop");
            }
            return a.stub().createJoinToken(r.build()).getToken();
        }
    }

    private Component start(Component c, String marker) throws Exception {
        components.add(c);
        return c.start(marker);
    }

    private Component gateway(String member, String prefix) throws Exception {
        Component c = Component.java(logs, member + "-gateway", GATEWAY_JAR, env, "--controller", "127.0.0.1:" + grpc,
                "--member", member, "--name", member + "-gw", "--state-dir", work.resolve(member + "-gw").toString(),
                "--listen", prefix + ".1:15443", "--tunnel-listen", prefix + ".1:15008",
                "--http-listen", prefix + ".1:" + freePort(prefix + ".1"), "--outbound-bind", prefix + ".1",
                "--drain-timeout", "1s");
        components.add(c);
        Map<String, String> withToken = new HashMap<>(env);
        withToken.put("MESHFED_JOIN_TOKEN", token(member, Role.ROLE_GATEWAY));
        return c.start("meshfed gateway ready", withToken);
    }

    private Component agent(String member, String prefix, String body) throws Exception {
        Path yaml = work.resolve(member + "-agent.yaml");
        Files.writeString(yaml, "member: " + member + "\nname: " + member + "-vm\nnamespace: shop\nstateDir: "
                + work.resolve(member + "-agent") + "\naddress: " + prefix + ".2\ninbound:\n  listen: " + prefix
                + ".2:" + freePort(prefix + ".2") + "\nhttp:\n  listen: " + prefix + ".2:" + freePort(prefix + ".2")
                + "\nhealthCheck:\n  interval: 500ms\n  timeout: 500ms\n" + body);
        Map<String, String> withToken = new HashMap<>(env);
        withToken.put("MESHFED_JOIN_TOKEN", token(member, Role.ROLE_AGENT));
        Processes.Result r = Processes.run(work, Duration.ofMinutes(2), List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Processes.root().resolve(AGENT_JAR).toString(), "join", "--controller", "127.0.0.1:" + grpc,
                "--config", yaml.toString()), withToken);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return start(Component.java(logs, member + "-agent", AGENT_JAR, env, "run", "--config", yaml.toString(),
                "--drain-timeout", "1s"), "meshfed agent ready");
    }

    private Component sample(String name, String host, int port) throws Exception {
        return start(Component.java(logs, name, SAMPLE_JAR, env, "--mode", "hello", "--service", "billing.shop",
                "--network", name, "--listen", host + ":" + port), "serving");
    }

    private Processes.Result meshfed(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", Processes.root().resolve(CLI_JAR).toString()));
        command.addAll(List.of(args));
        return Processes.run(work, Duration.ofMinutes(2), command, env);
    }

    @BeforeAll
    void startFederation() throws Exception {
        logs = Files.createDirectories(work.resolve("logs"));
        env = Map.of("MESHFED_HOME", work.resolve("home").toString());
        grpc = freePort("127.0.0.1");
        Processes.Result init = Processes.run(work, Duration.ofMinutes(2), List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Processes.root().resolve(CONTROLLER_JAR).toString(), "init", "--controller", "127.0.0.1:" + grpc,
                "--data-dir", work.resolve("controller").toString(), "--trust-domain", "acme.mesh"), env);
        assertThat(init.exitCode()).as(init.toString()).isZero();
        start(Component.java(logs, "controller", CONTROLLER_JAR, env, "--data-dir",
                work.resolve("controller").toString(), "--listen", "127.0.0.1:" + grpc, "--http-listen",
                "127.0.0.1:" + freePort("127.0.0.1")), "meshfed controller ready");

        // The legacy fleet: billing on two VMs registered in Consul, one of them failing its check.
        servicePort = freePort("127.0.5.2");
        sample("legacy-a", "127.0.5.2", servicePort);
        sample("legacy-b", "127.0.5.3", servicePort);
        consul = ConsulTestServer.start("127.0.5.10", "dc1");
        consul.node("vm-a", "127.0.5.2", Map.of("region", "eu-west-1"));
        consul.node("vm-b", "127.0.5.3", Map.of("region", "eu-west-1"));
        consul.service("vm-a", "billing-a", "billing", List.of("meshfed-export", "meshfed-namespace=shop"),
                Map.of(), "", servicePort, "passing");
        consul.service("vm-b", "billing-b", "billing", List.of("meshfed-export", "meshfed-namespace=shop"),
                Map.of(), "", servicePort, "critical");
        consul.enableAcls();

        try (AdminClient a = admin()) {
            for (String net : List.of("east", "west")) {
                a.stub().createNetwork(CreateNetworkRequest.newBuilder().setName(net).build());
                a.stub().addMember(AddMemberRequest.newBuilder().setName(net).setType("vm").setNetwork(net).build());
            }
        }
        // The operator's join, with the policy render-policy prints.
        Processes.Result policy = meshfed("consul", "render-policy", "--network", "legacy", "--publish",
                "ledger.shop");
        assertThat(policy.exitCode()).as(policy.toString()).isZero();
        assertThat(policy.stdout()).contains("node \"" + NODE + "\" { policy = \"write\" }")
                .contains("service \"ledger-shop\" { policy = \"write\" }");
        Path tokenFile = work.resolve("consul.token");
        Files.writeString(tokenFile, consul.createToken("meshfed",
                ConsulAcl.Rule.prefix("service", "", ConsulAcl.Access.READ),
                ConsulAcl.Rule.prefix("node", "", ConsulAcl.Access.READ),
                ConsulAcl.Rule.exact("node", NODE, ConsulAcl.Access.WRITE),
                ConsulAcl.Rule.exact("service", "ledger-shop", ConsulAcl.Access.WRITE)));
        Processes.Result join = meshfed("consul", "join", "dc1", "--address", consul.address().toString(),
                "--network", "legacy", "--token-file", tokenFile.toString(), "--gateway-address", "127.0.5.1:15443",
                "--tunnel-address", "127.0.5.1:15008", "--cidr", "127.0.5.0/24");
        assertThat(join.exitCode()).as(join.toString()).isZero();
        assertThat(join.stdout()).as(() -> join + "\n" + logs("controller")).contains("[3/3] first sync")
                .contains("1 service(s) imported from Consul");
        try (AdminClient a = admin()) {
            // billing.shop, in legacy first, then east.
            a.stub().export(ExportRequest.newBuilder().setService("billing").setNamespace("shop").addToMembers("west")
                    .addFailoverNetworks("legacy").addFailoverNetworks("east").build());
        }

        legacyGateway = gateway("dc1", "127.0.5");
        int eastApp = freePort("127.0.6.2");
        sample("east", "127.0.6.2", eastApp);
        agent("east", "127.0.6", "services:\n  - name: billing\n    port: " + servicePort + "\n    target: 127.0.6.2:"
                + eastApp + "\n    protocol: http\n    check:\n      http: /healthz\n  - name: ledger\n    port: 7000\n"
                + "    target: 127.0.6.2:" + eastApp + "\n    protocol: http\n    check:\n      http: /healthz\n");
        gateway("east", "127.0.6");
        westImport = freePort("127.0.7.2");
        agent("west", "127.0.7", "imports:\n  - service: billing\n    namespace: shop\n    port: " + servicePort
                + "\n    listen: 127.0.7.2:" + westImport + "\n");
        gateway("west", "127.0.7");

        await().atMost(Component.timeout()).until(() -> {
            try (AdminClient a = admin()) {
                return a.stub().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                        .filter(s -> s.getName().equals("billing")).anyMatch(s -> s.getOutboundPortsCount() > 0);
            }
        });
        try (AdminClient a = admin()) {
            westOutbound = a.stub().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                    .filter(s -> s.getName().equals("billing")).findFirst().orElseThrow().getOutboundPortsList()
                    .stream().filter(p -> p.getNetwork().equals("west")).findFirst().orElseThrow().getListenPort();
        }
        await().atMost(Component.timeout()).ignoreExceptions()
                .until(() -> get("127.0.7.2", westImport).contains("legacy-a"));
    }

    @AfterAll
    void stopFederation() throws Exception {
        for (int i = components.size() - 1; i >= 0; i--) {
            components.get(i).kill();
        }
        if (consul != null) {
            consul.close();
        }
    }

    @Test
    @Order(1)
    void westReachesOnlyThePassingConsulInstanceThroughTheGateways() throws Exception {
        Set<String> answers = new TreeSet<>();
        for (int i = 0; i < 20; i++) {
            answers.add(get("127.0.7.2", westImport));
            answers.add(get("127.0.7.1", westOutbound));
        }
        assertThat(answers).containsExactly("hello from billing.shop in network legacy-a\n");
        legacyGateway.awaitAccessLine("\"caller\":\"spiffe://west.acme.mesh/ns/shop/vm/west-vm",
                "\"service\":\"billing.shop:" + servicePort + "\",\"upstream\":\"127.0.5.2:" + servicePort + "\"");
        assertThat(legacyGateway.log()).doesNotContain("127.0.5.3:" + servicePort);
    }

    @Test
    @Order(2)
    void whenTheConsulCheckTurnsCriticalTrafficFailsOverToEast() throws Exception {
        consul.check("service:billing-a", "critical");
        await().atMost(Component.timeout()).ignoreExceptions().until(() ->
                get("127.0.7.2", westImport).equals("hello from billing.shop in network east\n"));
        for (int i = 0; i < 10; i++) {
            assertThat(get("127.0.7.2", westImport)).isEqualTo("hello from billing.shop in network east\n");
        }
        consul.check("service:billing-a", "passing");
        await().atMost(Component.timeout()).ignoreExceptions().until(() ->
                get("127.0.7.2", westImport).contains("legacy-a"));
    }

    @Test
    @Order(3)
    void aFederatedServiceExportedToTheDatacenterIsRegisteredAtTheLegacyGateway() throws Exception {
        try (AdminClient a = admin()) {
            a.stub().export(ExportRequest.newBuilder().setService("ledger").setNamespace("shop").addToMembers("dc1")
                    .build());
        }
        // ledger.shop runs in east: the datacenter finds it in its catalog, at its gateway's outbound port.
        var published = await().atMost(Component.timeout()).until(() ->
                consul.registered(NODE, "meshfed-import-ledger-shop-7000"), java.util.Optional::isPresent).get();
        assertThat(published.name()).isEqualTo("ledger-shop");
        assertThat(published.tags()).contains("meshfed-import");
        assertThat(published.address()).isEqualTo("127.0.5.1");
        assertThat(get("127.0.5.1", published.port())).isEqualTo("hello from billing.shop in network east\n");
        Processes.Result list = meshfed("consul", "list");
        assertThat(list.stdout()).contains("dc1").contains("synced");
        // Unexported: it leaves Consul's catalog.
        try (AdminClient a = admin()) {
            a.stub().unexport(ExportRequest.newBuilder().setService("ledger").setNamespace("shop").addToMembers("dc1")
                    .build());
        }
        await().atMost(Component.timeout()).untilAsserted(() -> assertThat(consul.registered(NODE,
                "meshfed-import-ledger-shop-7000")).as(() -> "still registered after the unexport\n" + logs("controller"))
                .isEmpty());
    }

    private String logs(String component) {
        try {
            return Files.readString(logs.resolve(component + ".log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** A plain HTTP GET of / ; the body of a 200 answer, else an exception. */
    private static String get(String host, int port) throws IOException {
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: billing.shop\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int split = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 200") || split < 0) {
                throw new IOException("unexpected answer from " + host + ":" + port + ": '" + response + "'");
            }
            return response.substring(split + 4);
        }
    }
}
