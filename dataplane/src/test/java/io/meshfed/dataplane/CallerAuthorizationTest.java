package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.ServiceSni;
import io.meshfed.dataplane.CallerRules.Effect;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SpiffeIdPattern;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Authorization per caller on real sockets with real mTLS. East's agent serves hello.demo, exported to member west
 * (trust domain west.acme.mesh). Two callers dial it through proxies of their own: one of west, and one of
 * west-extra, another member (and trust domain) that shares network west. West-extra is refused and its bytes never
 * reach the workload; an allow rule for its pattern lets it in; a later deny rule closes its open connection; deny wins
 * over allow and over the export; every decision is counted on /metrics by decision and reason.
 */
class CallerAuthorizationTest {
    private static final String EAST = "east.acme.mesh";
    private static final String WEST = "west.acme.mesh";
    private static final String WEST_EXTRA = "west-extra.acme.mesh";
    private final TestPki east = TestPki.create(EAST, Instant.now());
    private final TestPki west = TestPki.create(WEST, Instant.now());
    private final TestPki westExtra = TestPki.create(WEST_EXTRA, Instant.now());
    private final SpiffeId agentId = SpiffeId.parse("spiffe://" + EAST + "/ns/demo/vm/vm-1");
    private final SpiffeId extraCaller = SpiffeId.parse("spiffe://" + WEST_EXTRA + "/ns/demo/vm/extra-1");
    private final ServiceSni sni = new ServiceSni(8080, "hello", "demo");
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private EchoBackend backend;
    private MeshProxy agent;
    private ProxyHttp agentHttp;
    private InetSocketAddress fromWest;
    private InetSocketAddress fromExtra;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        agent = MeshProxy.start(TlsCredentials.of(east.svid(agentId.path()),
                BundleSet.of(east.bundle(), west.bundle(), westExtra.bundle())),
                new InetSocketAddress("127.0.1.2", 0), ProxySettings.defaults(), Clock.systemUTC());
        agentHttp = new ProxyHttp(new InetSocketAddress("127.0.0.1", 0), "meshfed.agent", agent, () -> true,
                registry -> { });
        rules();
        fromWest = caller(west, "/ns/demo/vm/west-1", "127.0.3.1");
        fromExtra = caller(westExtra, extraCaller.path(), "127.0.3.2");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        agentHttp.close();
        agent.close();
        backend.close();
    }

    /** The agent's table: hello.demo exported to west, with these caller rules. */
    private void rules(CallerRules.Rule... rules) {
        agent.update(new RouteTable("agent-" + rules.length, Map.of(sni, new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1", backend.port())))),
                Set.of(WEST), new CallerRules(List.of(rules)))), Map.of()));
    }

    private static CallerRules.Rule rule(String id, Effect effect, String from) {
        return new CallerRules.Rule(id, effect, SpiffeIdPattern.parse(from));
    }

    /** A proxy of {@code pki}'s trust domain whose outbound listener carries plain TCP to the agent over mTLS. */
    private InetSocketAddress caller(TestPki pki, String path, String host) throws Exception {
        MeshProxy proxy = MeshProxy.start(TlsCredentials.of(pki.svid(path), BundleSet.of(east.bundle(), pki.bundle())),
                null, ProxySettings.defaults(), Clock.systemUTC());
        closeables.add(proxy);
        InetSocketAddress in = agent.inboundAddress().orElseThrow();
        InetSocketAddress listen = new InetSocketAddress(host, freePort(host));
        proxy.update(new RouteTable("caller", Map.of(), Map.of(listen, new Target("hello.demo:8080",
                List.of(new Tier("east", List.of(Upstream.agent("east", in.getHostString(), in.getPort(),
                        sni.toString(), agentId)))), Set.of()))));
        return listen;
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        }
    }

    private static Socket connect(InetSocketAddress a) throws IOException {
        Socket s = new Socket(a.getAddress(), a.getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends bytes and expects the connection to be closed with nothing echoed. */
    private static void refused(InetSocketAddress a) throws IOException {
        try (Socket s = connect(a)) {
            s.getOutputStream().write("let me in".getBytes(StandardCharsets.UTF_8));
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    private long decisions(AuthzReason reason) {
        return agent.stats().authzDecisions(reason);
    }

    private String metrics() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agentHttp.address().getPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void anExportedToMemberIsAllowedAndAnotherTrustDomainInTheSameNetworkIsRefusedBeforeItsBytesReachTheWorkload()
            throws Exception {
        try (Socket s = connect(fromWest)) {
            assertThat(EchoBackend.exchange(s, "from west")).isEqualTo("from west");
        }
        assertThat(decisions(AuthzReason.EXPORT)).isEqualTo(1);
        int reachedWorkload = backend.connections().get();
        long bytesIn = agent.stats().bytesFromDownstream();

        refused(fromExtra);
        assertThat(agent.stats().refusals(RefusalReason.UNAUTHORIZED)).isEqualTo(1);
        assertThat(decisions(AuthzReason.NOT_EXPORTED)).isEqualTo(1);
        assertThat(backend.connections().get()).as("no connection reached the workload").isEqualTo(reachedWorkload);
        assertThat(agent.stats().bytesFromDownstream()).as("no byte was carried").isEqualTo(bytesIn);
        assertThat(metrics()).contains("meshfed_authz_decisions_total{decision=\"deny\",reason=\"not_exported\"} 1.0")
                .contains("meshfed_authz_decisions_total{decision=\"allow\",reason=\"export\"} 1.0");
    }

    @Test
    void everyConnectionGetsOneJsonAccessLineWithItsCallerItsResultAndItsBytes() throws Exception {
        try (CapturedStderr log = new CapturedStderr()) {
            try (Socket s = connect(fromWest)) {
                assertThat(EchoBackend.exchange(s, "from west")).isEqualTo("from west");
            }
            refused(fromExtra);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
                    log.accessLines().size() >= 4);
            List<com.fasterxml.jackson.databind.JsonNode> lines = log.accessLines();
            String westCaller = "spiffe://" + WEST + "/ns/demo/vm/west-1";
            // At the agent: the carried connection, named by the caller's verified ID, with the bytes both ways.
            assertThat(lines).filteredOn(l -> l.path("listener").asText().equals("inbound")
                    && l.path("caller").asText().equals(westCaller)).singleElement().satisfies(l -> {
                        assertThat(l.path("result").asText()).isEqualTo("ok");
                        assertThat(l.path("service").asText()).isEqualTo("hello.demo:8080");
                        assertThat(l.path("upstream").asText()).isEqualTo("127.0.0.1:" + backend.port());
                        assertThat(l.path("transport").asText()).isEqualTo("plain");
                        assertThat(l.path("bytes_in").asLong()).isEqualTo(9);
                        assertThat(l.path("bytes_out").asLong()).isEqualTo(9);
                        assertThat(l.path("duration_ms").asLong()).isNotNegative();
                        assertThat(java.time.Instant.parse(l.path("time").asText())).isBefore(Instant.now());
                        assertThat(l.has("reason")).isFalse();
                    });
            // At west's proxy: its outbound listener's client, carried as west's identity to the pinned agent.
            assertThat(lines).filteredOn(l -> l.path("listener").asText().equals("outbound")
                    && l.path("as").asText().equals(westCaller)).singleElement().satisfies(l -> {
                        assertThat(l.path("result").asText()).isEqualTo("ok");
                        assertThat(l.path("source").asText()).startsWith("/127.0.0.1:");
                        assertThat(l.has("caller")).as("a plain client has no identity of its own").isFalse();
                        assertThat(l.path("peer").asText()).isEqualTo(agentId.toString());
                        assertThat(l.path("transport").asText()).isEqualTo("mTLS");
                        assertThat(l.path("bytes_in").asLong()).isEqualTo(9);
                    });
            // At the agent: the refused caller, its verified ID and the reason its refusal is counted under.
            assertThat(lines).filteredOn(l -> l.path("listener").asText().equals("inbound")
                    && l.path("caller").asText().equals(extraCaller.toString())).singleElement().satisfies(l -> {
                        assertThat(l.path("result").asText()).isEqualTo("refused");
                        assertThat(l.path("reason").asText()).isEqualTo(RefusalReason.UNAUTHORIZED.label());
                        assertThat(l.path("service").isMissingNode()).as("never dialled").isTrue();
                        assertThat(l.path("bytes_in").asLong()).isZero();
                    });
        }
    }

    @Test
    void anAllowRuleLetsTheCallerInAndALaterDenyRuleClosesItsOpenConnection() throws Exception {
        rules(rule("a1", Effect.ALLOW, "spiffe://" + WEST_EXTRA + "/ns/demo/vm/*"));
        try (Socket open = connect(fromExtra)) {
            assertThat(EchoBackend.exchange(open, "allowed by policy")).isEqualTo("allowed by policy");
            assertThat(decisions(AuthzReason.POLICY_ALLOW)).isEqualTo(1);
            // The connection stays open while the table changes in ways that still allow it.
            rules(rule("a1", Effect.ALLOW, "spiffe://" + WEST_EXTRA + "/ns/demo/vm/*"),
                    rule("d0", Effect.DENY, "spiffe://" + WEST_EXTRA + "/ns/other/*"));
            assertThat(EchoBackend.exchange(open, "still open")).isEqualTo("still open");

            rules(rule("a1", Effect.ALLOW, "spiffe://" + WEST_EXTRA + "/ns/demo/vm/*"),
                    rule("d1", Effect.DENY, extraCaller.toString()));
            assertThat(open.getInputStream().read()).as("closed by the new policy").isEqualTo(-1);
        }
        assertThat(agent.stats().policyClosed()).isEqualTo(1);
        assertThat(decisions(AuthzReason.POLICY_DENY)).isEqualTo(1);

        int reachedWorkload = backend.connections().get();
        refused(fromExtra);
        assertThat(decisions(AuthzReason.POLICY_DENY)).as("deny wins over the allow rule").isEqualTo(2);
        assertThat(backend.connections().get()).isEqualTo(reachedWorkload);
        try (Socket s = connect(fromWest)) {
            assertThat(EchoBackend.exchange(s, "west unaffected")).isEqualTo("west unaffected");
        }
        String metrics = metrics();
        assertThat(metrics).contains("meshfed_authz_decisions_total{decision=\"allow\",reason=\"policy_allow\"} 1.0")
                .contains("meshfed_authz_decisions_total{decision=\"deny\",reason=\"policy_deny\"} 2.0")
                .contains("meshfed_agent_policy_closed_total 1.0");
    }

    @Test
    void aDenyRuleWinsOverTheExportAndClosesTheExportedToMembersConnection() throws Exception {
        try (Socket open = connect(fromWest)) {
            assertThat(EchoBackend.exchange(open, "exported")).isEqualTo("exported");
            rules(rule("d1", Effect.DENY, "spiffe://" + WEST));
            assertThat(open.getInputStream().read()).isEqualTo(-1);
        }
        refused(fromWest);
        assertThat(decisions(AuthzReason.POLICY_DENY)).isEqualTo(2);
        rules();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Socket s = connect(fromWest)) {
                assertThat(EchoBackend.exchange(s, "deleted deny")).isEqualTo("deleted deny");
            }
        });
    }
}
