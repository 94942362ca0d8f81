package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.client.Joiner;
import io.meshfed.client.StateDir;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane as an operator runs it: a controller, an east-west gateway and a VM agent in each of networks east
 * (127.0.1.x) and west (127.0.2.x), and the sample service hello.demo behind the agents, all separate JVM
 * processes started from the packaged jars. hello.demo runs in east (exported to west) and, later, in west too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DataPlaneE2ETest {
    private static final String CONTROLLER_JAR = "federation-controller/target/meshfed-controller.jar";
    private static final String GATEWAY_JAR = "east-west-gateway/target/meshfed-gateway.jar";
    private static final String AGENT_JAR = "vm-agent/target/meshfed-agent.jar";
    private static final String SAMPLE_JAR = "sample-service/target/meshfed-sample.jar";
    private static final String SNI = "8080.hello.demo.svc.meshfed";

    @TempDir
    static Path work;
    private Path logs;
    private Map<String, String> env;
    private int grpc;
    private int eastGwPort;
    private int eastTunnelPort;
    private int eastGwHttp;
    private int eastAgentPort;
    private int westAgentPort;
    private int westImport;
    private int westAppPort;
    private int westOutbound;
    private Component controller;
    private Component eastApp;
    private Component westApp;
    private Component eastAgent;
    private Component westAgent;
    private Component eastGateway;
    private Component westGateway;
    private String usedAgentToken;
    private TlsCredentials north;

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        }
    }

    private AdminClient admin() {
        return AdminClient.connect(env);
    }

    /** A join token; an agent's may register hello.demo, the only service agents here serve. */
    private String token(String member, Role role) {
        try (AdminClient a = admin()) {
            CreateJoinTokenRequest.Builder request = CreateJoinTokenRequest.newBuilder().setMember(member).setRole(role);
            if (role == Role.ROLE_AGENT) {
                request.addServices("hello.demo");
            }
            return a.stub().createJoinToken(request.build()).getToken();
        }
    }

    private Path agentYaml(String net, String prefix, int agentPort, int appPort, String imports) throws IOException {
        Path f = work.resolve(net + "-agent.yaml");
        Files.writeString(f, "member: " + net + "\nname: " + net + "-vm\nnamespace: demo\nstateDir: "
                + work.resolve(net + "-agent") + "\naddress: " + prefix + ".2\ninbound:\n  listen: " + prefix + ".2:"
                + agentPort + "\nhttp:\n  listen: " + prefix + ".2:" + freePort(prefix + ".2")
                + "\nhealthCheck:\n  interval: 500ms\n  timeout: 500ms\nservices:\n  - name: hello\n    port: 8080\n"
                + "    target: " + prefix + ".2:" + appPort + "\n    protocol: http\n    check:\n      http: /healthz\n"
                + imports);
        return f;
    }

    private Component gateway(String net, String prefix, int port, int tunnel, int http) {
        return Component.java(logs, net + "-gateway", GATEWAY_JAR, env, "--controller", "127.0.0.1:" + grpc,
                "--member", net, "--name", net + "-gw", "--state-dir", work.resolve(net + "-gw").toString(),
                "--listen", prefix + ".1:" + port, "--tunnel-listen", prefix + ".1:" + tunnel,
                "--http-listen", prefix + ".1:" + http, "--outbound-bind",
                prefix + ".1", "--drain-timeout", "1s");
    }

    private static Map<String, String> with(Map<String, String> env, String token) {
        Map<String, String> m = new java.util.HashMap<>(env);
        m.put("MESHFED_JOIN_TOKEN", token);
        return m;
    }

    @BeforeAll
    void startFederation() throws Exception {
        logs = Files.createDirectories(work.resolve("logs"));
        env = Map.of("MESHFED_HOME", work.resolve("home").toString());
        grpc = freePort("127.0.0.1");
        int http = freePort("127.0.0.1");
        Processes.Result init = Processes.run(work, Duration.ofMinutes(2), List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Processes.root().resolve(CONTROLLER_JAR).toString(), "init", "--controller", "127.0.0.1:" + grpc,
                "--data-dir", work.resolve("controller").toString(), "--trust-domain", "acme.mesh"), env);
        assertThat(init.exitCode()).as(init.toString()).isZero();
        controller = Component.java(logs, "controller", CONTROLLER_JAR, env, "--data-dir",
                work.resolve("controller").toString(), "--listen", "127.0.0.1:" + grpc, "--http-listen",
                "127.0.0.1:" + http).start("meshfed controller ready");

        try (AdminClient a = admin()) {
            for (String net : List.of("east", "west")) {
                a.stub().createNetwork(CreateNetworkRequest.newBuilder().setName(net).build());
                a.stub().addMember(AddMemberRequest.newBuilder().setName(net).setType("vm").setNetwork(net).build());
            }
            a.stub().addMember(AddMemberRequest.newBuilder().setName("north").setType("vm").setNetwork("west")
                    .build());
            a.stub().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                    .build());
        }
        // A member hello.demo is not exported to: its identity must be refused by east's gateway.
        StateDir northState = new StateDir(work.resolve("north"));
        Joiner.join("127.0.0.1:" + grpc, token("north", Role.ROLE_AGENT), new Joiner.Identity(Role.ROLE_AGENT,
                "north", "probe", "demo", List.of()), northState, Clock.systemUTC());
        north = TlsCredentials.of(northState.svid(), northState.bundles());

        int eastApp = freePort("127.0.1.2");
        westAppPort = freePort("127.0.2.2");
        eastAgentPort = freePort("127.0.1.2");
        westAgentPort = freePort("127.0.2.2");
        westImport = freePort("127.0.2.2");
        eastGwPort = freePort("127.0.1.1");
        eastGwHttp = freePort("127.0.1.1");
        this.eastApp = Component.java(logs, "east-app", SAMPLE_JAR, env, "--mode", "hello", "--service",
                "hello.demo", "--network", "east", "--listen", "127.0.1.2:" + eastApp).start("serving");
        westApp = Component.java(logs, "west-app", SAMPLE_JAR, env, "--mode", "hello", "--service", "hello.demo",
                "--network", "west", "--listen", "127.0.2.2:" + westAppPort); // started later, for failover

        Path eastYaml = agentYaml("east", "127.0.1", eastAgentPort, eastApp, "");
        Path westYaml = agentYaml("west", "127.0.2", westAgentPort, westAppPort,
                "imports:\n  - service: hello\n    port: 8080\n    listen: 127.0.2.2:" + westImport + "\n");
        usedAgentToken = token("east", Role.ROLE_AGENT);
        for (var join : List.of(Map.entry(eastYaml, usedAgentToken), Map.entry(westYaml, token("west",
                Role.ROLE_AGENT)))) {
            Processes.Result r = Processes.run(work, Duration.ofMinutes(2), List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                    Processes.root().resolve(AGENT_JAR).toString(), "join", "--controller", "127.0.0.1:" + grpc,
                    "--config", join.getKey().toString()), with(env, join.getValue()));
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).contains("joined as spiffe://");
        }
        eastAgent = Component.java(logs, "east-agent", AGENT_JAR, env, "run", "--config", eastYaml.toString(),
                "--drain-timeout", "1s").start("meshfed agent ready");
        westAgent = Component.java(logs, "west-agent", AGENT_JAR, env, "run", "--config", westYaml.toString(),
                "--drain-timeout", "1s").start("meshfed agent ready");
        eastTunnelPort = freePort("127.0.1.1");
        eastGateway = gateway("east", "127.0.1", eastGwPort, eastTunnelPort, eastGwHttp);
        eastGateway.start("meshfed gateway ready", with(env, token("east", Role.ROLE_GATEWAY)));
        westGateway = gateway("west", "127.0.2", freePort("127.0.2.1"), freePort("127.0.2.1"), freePort("127.0.2.1"));
        westGateway.start("meshfed gateway ready", with(env, token("west", Role.ROLE_GATEWAY)));

        await().atMost(Component.timeout()).until(() -> {
            try (AdminClient a = admin()) {
                return a.stub().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                        .filter(s -> s.getName().equals("hello")).anyMatch(s -> s.getOutboundPortsCount() > 0);
            }
        });
        try (AdminClient a = admin()) {
            westOutbound = a.stub().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                    .filter(s -> s.getName().equals("hello")).findFirst().orElseThrow().getOutboundPorts(0)
                    .getListenPort();
        }
        await().atMost(Component.timeout()).ignoreExceptions()
                .until(() -> get("127.0.2.1", westOutbound).equals("hello from hello.demo in network east\n"));
    }

    @AfterAll
    void stopFederation() throws Exception {
        for (Component c : new Component[] {westGateway, eastGateway, westAgent, eastAgent, westApp, eastApp,
            controller}) {
            if (c != null) {
                c.kill();
            }
        }
    }

    /** A plain HTTP GET of / ; the body of a 200 answer, else an exception. */
    private static String get(String host, int port) throws IOException {
        try (Socket s = new Socket(host, port)) {
            byte[] answer = exchange(s);
            String response = new String(answer, StandardCharsets.UTF_8);
            int split = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 200") || split < 0) {
                throw new IOException("unexpected answer from " + host + ":" + port + ": '" + response + "'");
            }
            return response.substring(split + 4);
        }
    }

    private static byte[] exchange(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: hello.demo\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        return s.getInputStream().readAllBytes();
    }

    private long metric(String name, String reason) throws IOException {
        String body = new String(new java.net.URL("http://127.0.1.1:" + eastGwHttp + "/metrics").openStream()
                .readAllBytes(), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile(Pattern.quote(name) + (reason == null ? "" : "\\{reason=\"" + reason + "\"}")
                + " ([0-9.E]+)").matcher(body);
        if (!m.find()) {
            throw new IOException(name + " " + reason + " not in east gateway metrics");
        }
        return (long) Double.parseDouble(m.group(1));
    }

    /** mTLS to east's gateway with {@code credentials} and an SNI, then an HTTP request: how it ended (Refusals). */
    private String mtls(TlsCredentials credentials, String sni) throws Exception {
        SSLContext ctx = SpiffeTls.jdk(new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(),
                Clock.systemUTC()), new SpiffeKeyManager(credentials));
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.1.1", eastGwPort)) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
            return Refusals.tls(s);
        }
    }

    @Test
    @Order(1)
    void aRequestFromWestReachesEastThroughBothGatewaysOverMutualTls() throws Exception {
        assertThat(get("127.0.2.1", westOutbound)).isEqualTo("hello from hello.demo in network east\n");
        assertThat(get("127.0.2.2", westImport)).isEqualTo("hello from hello.demo in network east\n");
        // Each hop's access log names the identity it verified.
        // West's gateway tunnels to east's tunnel listener (the route names it), as itself: 127.0.0.1 is no pod.
        // (One JSON line per connection, written when it closes.)
        westGateway.awaitAccessLine("\"listener\":\"outbound\",\"source\":\"/127.0.0.1:",
                "\"service\":\"hello.demo:8080\",\"upstream\":\"127.0.1.1:" + eastTunnelPort + "\",\"sni\":\"" + SNI
                        + "\",\"transport\":\"tunnel\",\"peer\":\"spiffe://east.acme.mesh/meshfed/gateway/east-gw\"");
        eastGateway.awaitAccessLine("\"caller\":\"spiffe://west.acme.mesh/meshfed/gateway/west-gw\","
                + "\"service\":\"hello.demo:8080\",\"upstream\":\"127.0.1.2:" + eastAgentPort + "\",\"sni\":\"" + SNI
                + "\",\"transport\":\"mTLS\",\"peer\":\"spiffe://east.acme.mesh/ns/demo/vm/east-vm\"");
        eastGateway.awaitAccessLine("\"caller\":\"spiffe://west.acme.mesh/ns/demo/vm/west-vm",
                "\"service\":\"hello.demo:8080\"");
        eastAgent.awaitAccessLine("\"caller\":\"spiffe://east.acme.mesh/meshfed/gateway/east-gw\","
                + "\"service\":\"hello.demo:8080\",\"upstream\":\"127.0.1.2:");
    }

    @Test
    @Order(2)
    void everythingElseIsRefusedAtEastsGatewayBeforeReachingTheWorkload() throws Exception {
        long routed = metric("meshfed_gateway_inbound_routed_total", null);
        long plain = metric("meshfed_gateway_refusals_total", "handshake");
        try (Socket s = new Socket("127.0.1.1", eastGwPort)) {
            assertThat(Refusals.plain(s)).isEqualTo(Refusals.CLOSED);
        }
        long untrusted = metric("meshfed_gateway_refusals_total", "untrusted_peer");
        TestPki rogue = TestPki.create("rogue.example", Instant.now());
        TlsCredentials rogueCreds = TlsCredentials.of(rogue.svid("/meshfed/gateway/rogue"),
                BundleSet.of(rogue.bundle()).with(north.bundles().find(io.meshfed.trust.TrustDomain.parse(
                        "east.acme.mesh")).orElseThrow()));
        assertThat(mtls(rogueCreds, SNI)).startsWith(Refusals.ALERT);
        long unknown = metric("meshfed_gateway_refusals_total", "unknown_service");
        assertThat(mtls(north, "8080.secret.demo.svc.meshfed")).isEqualTo(Refusals.HANDSHAKE_THEN_CLOSED);
        long unauthorized = metric("meshfed_gateway_refusals_total", "unauthorized");
        assertThat(mtls(north, SNI)).isEqualTo(Refusals.HANDSHAKE_THEN_CLOSED);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(metric("meshfed_gateway_refusals_total", "handshake")).isEqualTo(plain + 1);
            assertThat(metric("meshfed_gateway_refusals_total", "untrusted_peer")).isEqualTo(untrusted + 1);
            assertThat(metric("meshfed_gateway_refusals_total", "unknown_service")).isEqualTo(unknown + 1);
            assertThat(metric("meshfed_gateway_refusals_total", "unauthorized")).isEqualTo(unauthorized + 1);
        });
        assertThat(metric("meshfed_gateway_inbound_routed_total", null)).isEqualTo(routed);
    }

    @Test
    @Order(3)
    void trafficKeepsFlowingWhileTheControllerIsKilledAndEveryoneResyncsWhenItIsBack() throws Exception {
        controller.kill();
        for (int i = 0; i < 3; i++) {
            assertThat(get("127.0.2.1", westOutbound)).isEqualTo("hello from hello.demo in network east\n");
        }
        controller.start("meshfed controller ready");
        await().atMost(Component.timeout()).untilAsserted(() -> {
            try (AdminClient a = admin()) {
                List<SubscriberStatus> subs = a.stub().status(ListRequest.getDefaultInstance()).getSubscribersList();
                assertThat(subs).extracting(SubscriberStatus::getSpiffeId).contains(
                        "spiffe://east.acme.mesh/meshfed/gateway/east-gw",
                        "spiffe://west.acme.mesh/meshfed/gateway/west-gw",
                        "spiffe://east.acme.mesh/ns/demo/vm/east-vm", "spiffe://west.acme.mesh/ns/demo/vm/west-vm");
                assertThat(subs).allSatisfy(s -> assertThat(s.getAckedVersion()).isEqualTo(s.getSentVersion()));
            }
        });
        try (AdminClient a = admin()) {
            assertThat(a.stub().listServices(ListRequest.getDefaultInstance()).getServicesList())
                    .anySatisfy(s -> assertThat(s.getName()).isEqualTo("hello"));
        }
        assertThat(get("127.0.2.1", westOutbound)).isEqualTo("hello from hello.demo in network east\n");
    }

    @Test
    @Order(4)
    void anAgentRestartsFromItsStateWithoutATokenAndATokenWorksOnlyOnce() throws Exception {
        eastAgent.stop();
        eastAgent.start("meshfed agent ready", env); // no MESHFED_JOIN_TOKEN
        await().atMost(Component.timeout()).ignoreExceptions().until(() ->
                get("127.0.2.1", westOutbound).equals("hello from hello.demo in network east\n"));

        Path other = work.resolve("again.yaml");
        Files.writeString(other, "member: east\nname: again\nnamespace: demo\nstateDir: " + work.resolve("again")
                + "\naddress: 127.0.1.9\nservices:\n  - name: hello\n    port: 8080\n");
        Processes.Result second = Processes.run(work, Duration.ofMinutes(2), List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Processes.root().resolve(AGENT_JAR).toString(), "join", "--controller", "127.0.0.1:" + grpc,
                "--config", other.toString()), with(env, usedAgentToken));
        assertThat(second.exitCode()).isEqualTo(1);
        assertThat(second.stderr()).startsWith("meshfed-agent: ").contains("already used");
    }

    @Test
    @Order(5)
    void anUnhealthyServiceIsWithdrawnAndTrafficFailsOverToTheOtherNetwork() throws Exception {
        westApp.start("serving");
        // Healthy in west now: west's own network comes first.
        await().atMost(Component.timeout()).ignoreExceptions().until(() ->
                get("127.0.2.1", westOutbound).equals("hello from hello.demo in network west\n"));
        westApp.kill();
        // Its health check fails: withdrawn from the catalog, and the same service in east takes the traffic.
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() ->
                get("127.0.2.1", westOutbound).equals("hello from hello.demo in network east\n"));
        try (AdminClient a = admin()) {
            assertThat(a.stub().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                    .filter(s -> s.getName().equals("hello")).flatMap(s -> s.getNetworksList().stream())
                    .filter(n -> n.getNetwork().equals("west")).flatMap(n -> n.getEndpointsList().stream()))
                    .allSatisfy(e -> assertThat(e.getHealthy()).isFalse());
        }
    }
}
