package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.client.StateDir;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * Authorization per caller with real processes: a running {@code meshfed quickstart}, and a second member
 * {@code west-extra} in network west with its own VM agent on 127.0.2.3. hello.demo is exported to member west only,
 * so west-extra, although in network west, is refused at east's gateway with a counted reason; {@code meshfed authz
 * allow} lets its agent in (the agent tunnels to east's gateway as itself), and a later {@code authz deny} cuts the
 * connection it holds open.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CallerPolicyE2ETest {
    private static final String EAST_METRICS = "http://127.0.1.1:15021/metrics";
    private static final String SNI = "8080.hello.demo.svc.meshfed";
    private static final String EXTRA_IMPORT = "127.0.2.3:18080";

    @TempDir
    static Path work;
    private Process quickstart;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private Path qs;
    private Map<String, String> adminEnv;
    private Component extraAgent;
    private X509Svid extraSvid;
    private TlsCredentials extraCredentials;

    @BeforeAll
    void startQuickstartAndJoinWestExtra() throws Exception {
        qs = work.resolve("qs");
        ProcessBuilder pb = new ProcessBuilder(Processes.root().resolve("meshfed").toString(), "quickstart", "--dir",
                qs.toString()).directory(work.toFile()).redirectErrorStream(true);
        quickstart = pb.start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(quickstart.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException e) {
                output.add("(output closed: " + e + ")");
            }
        }, "quickstart-output");
        reader.setDaemon(true);
        reader.start();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
                .until(() -> output.contains("meshfed quickstart is running. Try:") || !quickstart.isAlive());
        assertThat(quickstart.isAlive()).as(String.join("\n", output)).isTrue();
        adminEnv = Map.of("MESHFED_HOME", qs.resolve("admin").toString());

        String token;
        try (AdminClient admin = AdminClient.connect(adminEnv)) {
            admin.stub().addMember(AddMemberRequest.newBuilder().setName("west-extra").setType("vm")
                    .setNetwork("west").build());
            token = admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("west-extra")
                    .setRole(Role.ROLE_AGENT).setNamespace("demo").build()).getToken();
        }
        Path yaml = work.resolve("west-extra-agent.yaml");
        Files.writeString(yaml, "member: west-extra\nname: extra-vm\nnamespace: demo\nstateDir: "
                + work.resolve("west-extra-agent") + "\naddress: 127.0.2.3\ninbound:\n  listen: 127.0.2.3:15006\n"
                + "http:\n  listen: 127.0.2.3:15020\nimports:\n  - service: hello\n    port: 8080\n    listen: "
                + EXTRA_IMPORT + "\n");
        Map<String, String> withToken = new java.util.HashMap<>(adminEnv);
        withToken.put("MESHFED_JOIN_TOKEN", token);
        Processes.Result joined = Processes.run(work, Duration.ofMinutes(2), List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Processes.root().resolve("vm-agent/target/meshfed-agent.jar").toString(), "join", "--controller",
                "127.0.0.1:15012", "--config", yaml.toString()), withToken);
        assertThat(joined.exitCode()).as(joined.toString()).isZero();
        Files.createDirectories(work.resolve("logs"));
        extraAgent = Component.java(work.resolve("logs"), "west-extra-agent", "vm-agent/target/meshfed-agent.jar",
                adminEnv, "run", "--config", yaml.toString(), "--drain-timeout", "1s").start("meshfed agent ready");
        StateDir state = new StateDir(work.resolve("west-extra-agent"));
        extraSvid = state.svid();
        extraCredentials = TlsCredentials.of(extraSvid, state.bundles());
    }

    @AfterAll
    void stop() throws Exception {
        if (extraAgent != null) {
            extraAgent.stop();
        }
        if (quickstart != null) {
            quickstart.destroy();
            quickstart.waitFor();
        }
    }

    private Processes.Result meshfed(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Processes.root().resolve("meshfed").toString()));
        command.addAll(List.of(args));
        return Processes.run(work, Duration.ofMinutes(1), command, adminEnv);
    }

    private static long metric(String series) throws Exception {
        return metric(EAST_METRICS, series);
    }

    private static long agentMetric(String series) throws Exception {
        return metric("http://127.0.2.3:15020/metrics", series);
    }

    private static long metric(String url, String series) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.E+]+)$").matcher(r.body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    /** One request on a connection of its own, closed after the answer (so its access lines are written). */
    private static String get(String hostPort) {
        java.net.HttpURLConnection c = null;
        try {
            c = (java.net.HttpURLConnection) URI.create("http://" + hostPort + "/").toURL().openConnection();
            c.setConnectTimeout(5_000);
            c.setReadTimeout(10_000);
            c.setRequestProperty("Connection", "close");
            int status = c.getResponseCode();
            try (java.io.InputStream body = status < 400 ? c.getInputStream() : c.getErrorStream()) {
                return status + " " + (body == null ? "" : new String(body.readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            return "failed: " + e;
        } finally {
            if (c != null) {
                c.disconnect();
            }
        }
    }

    /** What west-extra's own SVID gets at east's gateway for hello.demo (the SNI listener, as a peer that dials). */
    private String callEastAsWestExtra() throws Exception {
        SSLContext ctx = SpiffeTls.jdk(new SpiffeTrustManager(extraCredentials, PeerAuthorizer.anyVerified(),
                Clock.systemUTC()), new SpiffeKeyManager(extraCredentials));
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.1.1", 15443), 5_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(SNI)));
            s.setSSLParameters(p);
            return Refusals.tls(s);
        }
    }

    private String extraPattern() {
        return "spiffe://" + extraSvid.id().trustDomain().name() + "/ns/demo/vm/*";
    }

    @Test
    @Order(1)
    void westExtraIsRefusedAtEastsGatewayWithTheReasonCountedAndItsBytesNeverReachTheWorkload() throws Exception {
        assertThat(extraSvid.id().toString()).startsWith("spiffe://west-extra.");
        String series = "meshfed_authz_decisions_total{decision=\"deny\",reason=\"not_exported\"}";
        long before = metric(series);
        long routed = metric("meshfed_gateway_inbound_routed_total");
        assertThat(callEastAsWestExtra()).isEqualTo(Refusals.HANDSHAKE_THEN_CLOSED);
        assertThat(metric(series)).isEqualTo(before + 1);
        assertThat(metric("meshfed_gateway_inbound_routed_total")).as("nothing reached a workload").isEqualTo(routed);
        // hello.demo is not visible to west-extra, so its agent has no route for the import it declared: the
        // connection is closed unanswered, and counted.
        long unroutable = agentMetric("meshfed_agent_outbound_unroutable_total");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.2.3", 18080), 5_000);
            assertThat(Refusals.plain(s)).isEqualTo(Refusals.CLOSED);
        }
        assertThat(agentMetric("meshfed_agent_outbound_unroutable_total")).isEqualTo(unroutable + 1);
        // West itself, in the same network, is served as before.
        assertThat(get("127.0.2.2:18080")).startsWith("200 hello from hello.demo in network east");
    }

    @Test
    @Order(2)
    void anAllowPolicyLetsWestExtraInThroughItsOwnTunnel() throws Exception {
        Processes.Result allowed = meshfed("authz", "allow", "hello.demo", "--from", extraPattern());
        assertThat(allowed.exitCode()).as(allowed.toString()).isZero();
        Processes.Result list = meshfed("authz", "list");
        assertThat(list.stdout()).contains("hello.demo", "allow", extraPattern());
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> get(EXTRA_IMPORT).startsWith("200 hello from hello.demo in network east"));
        assertThat(metric("meshfed_authz_decisions_total{decision=\"allow\",reason=\"policy_allow\"}"))
                .isPositive();
        // The agent tunnels straight to east's gateway, as itself.
        extraAgent.awaitAccessLine("\"as\":\"" + extraSvid.id() + "\"", "\"upstream\":\"127.0.1.1:15008\",\"sni\":\""
                + SNI + "\",\"transport\":\"tunnel\",\"peer\":\"spiffe://east.meshfed.local/meshfed/gateway/east-gw\"");
    }

    @Test
    @Order(3)
    void aLaterDenyCutsTheConnectionWestExtraHoldsOpen() throws Exception {
        long closedBefore = metric("meshfed_gateway_policy_closed_total");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.2.3", 18080), 5_000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: hello.demo\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] first = new byte[12];
            assertThat(in.readNBytes(first, 0, first.length)).isEqualTo(12);
            assertThat(new String(first, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");

            Processes.Result denied = meshfed("authz", "deny", "hello.demo", "--from", extraPattern());
            assertThat(denied.exitCode()).as(denied.toString()).isZero();
            // The rest of the first answer may still arrive; then the connection ends, without another request.
            byte[] rest = new byte[8192];
            while (in.read(rest) >= 0) {
                // drain until closed by the policy
            }
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> metric("meshfed_gateway_policy_closed_total") > closedBefore);
        assertThat(callEastAsWestExtra()).isEqualTo(Refusals.HANDSHAKE_THEN_CLOSED);
        assertThat(metric("meshfed_authz_decisions_total{decision=\"deny\",reason=\"policy_deny\"}")).isPositive();
    }
}
