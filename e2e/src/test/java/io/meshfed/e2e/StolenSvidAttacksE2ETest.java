package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.JoinRequest;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RenewResponse;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.Subscribe;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.client.ControllerChannels;
import io.meshfed.client.StateDir;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.BufferedReader;
import java.io.IOException;
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
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
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
 * The attacks of issue 12, replayed against a running {@code meshfed quickstart} (real processes on 127.0.x.x) by
 * someone who stole east's VM agent SVID (its key and certificate, copied from the agent's state directory). Each
 * attack is refused with its reason, the refusal shows in a counter or a log line, and the legitimate call next to it
 * still works. Revocation runs last: it ends the stolen identity.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StolenSvidAttacksE2ETest {
    private static final String CONTROLLER = "127.0.0.1:15012";
    private static final String EAST_GATEWAY = "127.0.1.1";
    private static final String WEST_GATEWAY = "127.0.2.1";

    @TempDir
    static Path work;
    private Process quickstart;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private Path qs;
    private X509Svid stolen;
    private TlsCredentials stolenCredentials;
    private ManagedChannel asEastAgent;
    private AdminClient admin;
    private String crossNetworkEntry;

    @BeforeAll
    void startQuickstartAndStealEastsAgentSvid() throws Exception {
        qs = work.resolve("qs");
        ProcessBuilder pb = new ProcessBuilder(Processes.root().resolve("meshfed").toString(), "quickstart", "--dir",
                qs.toString()).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("MESHFED_AGENT_GRACE_PERIOD", "3s"); // attack 11 waits for it
        // Attack 7 fills the member's quota with one report (at most 256 workloads); the default is 1000.
        pb.environment().put("MESHFED_MEMBER_PORT_QUOTA", "256");
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

        StateDir eastAgent = new StateDir(qs.resolve("east/agent"));
        stolen = eastAgent.svid();
        stolenCredentials = TlsCredentials.of(stolen, eastAgent.bundles());
        asEastAgent = ControllerChannels.mtls(CONTROLLER, stolenCredentials,
                SpiffeId.parse("spiffe://meshfed.local/meshfed/controller"), Clock.systemUTC());
        admin = AdminClient.connect(Map.of("MESHFED_HOME", qs.resolve("admin").toString()));
        Matcher entry = Pattern.compile("\"hello.demo from west through both gateways\" : \"([0-9.:]+)\"")
                .matcher(Files.readString(qs.resolve("quickstart.json")));
        assertThat(entry.find()).isTrue();
        crossNetworkEntry = entry.group(1);
    }

    @AfterAll
    void stop() throws Exception {
        if (asEastAgent != null) {
            asEastAgent.shutdownNow();
        }
        if (admin != null) {
            admin.close();
        }
        if (quickstart != null) {
            quickstart.destroy();
            assertThat(quickstart.waitFor(90, TimeUnit.SECONDS)).isTrue();
        }
    }

    // --- attack 1: report a service of another network, then call it ---------------------------------------------

    @Test
    @Order(1)
    void reportingWestsServiceGrantsNoRightToCallIt() throws Exception {
        // A report replaces the agent's set: the thief keeps east's real workload in it, so nothing else changes.
        Status refused = refusal(() -> report(asEastAgent, eastsOwnWorkload(),
                workload("echo", "127.0.1.2", 8080, false)));
        assertThat(refused.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(refused.getDescription()).contains("1 of 2 workloads refused").contains("echo.demo is outside the"
                + " scope of " + stolen.id() + " (hello.demo)");

        long before = metric("http://" + WEST_GATEWAY + ":15021/metrics",
                "meshfed_gateway_refusals_total{reason=\"unauthorized\"}");
        callThroughGateway(WEST_GATEWAY, "8080.echo.demo.svc.meshfed");
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("http://" + WEST_GATEWAY + ":15021/metrics",
                "meshfed_gateway_refusals_total{reason=\"unauthorized\"}") == before + 1);

        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
        assertThat(controllerMetric("meshfed_registration_refusals_total{reason=\"scope\"}")).isPositive();
    }

    // --- attack 2: west's agent registers east's service at its own host -------------------------------------------

    @Test
    @Order(2)
    void westsAgentCannotRegisterHelloAtItsOwnHost() throws Exception {
        StateDir westAgent = new StateDir(qs.resolve("west/agent"));
        X509Svid west = westAgent.svid();
        ManagedChannel asWestAgent = ControllerChannels.mtls(CONTROLLER, TlsCredentials.of(west, westAgent.bundles()),
                SpiffeId.parse("spiffe://meshfed.local/meshfed/controller"), Clock.systemUTC());
        try {
            Status refused = refusal(() -> report(asWestAgent, workload("echo", "127.0.2.2", 8080, true),
                    workload("hello", "127.0.2.2", 8080, true)));
            assertThat(refused.getDescription()).contains("1 of 2 workloads refused")
                    .contains("hello.demo is outside the scope of " + west.id() + " (echo.demo)");
        } finally {
            asWestAgent.shutdownNow();
        }
        // hello.demo still comes from east, through both gateways and through west's agent.
        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
        assertThat(httpGet("http://127.0.2.2:18080/")).isEqualTo("hello from hello.demo in network east\n");
        assertThat(admin.stub().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                .filter(s -> s.getName().equals("hello")).flatMap(s -> s.getNetworksList().stream())
                .map(n -> n.getNetwork()).toList()).containsExactly("east");
    }

    // --- attack 3: a workload at a loopback management port, reached as a plain upstream (SSRF) -------------------

    @Test
    @Order(3)
    void aWorkloadWithoutInboundIsRefusedAndTheManagementPortIsUnreachable() throws Exception {
        Status refused = refusal(() -> report(asEastAgent, eastsOwnWorkload(),
                workload("hello", "127.0.0.1", 15022, true).toBuilder().clearInbound().build()));
        assertThat(refused.getDescription()).contains("hello.demo names no inbound");

        long before = metric("http://" + EAST_GATEWAY + ":15021/metrics",
                "meshfed_gateway_refusals_total{reason=\"unknown_service\"}");
        for (String sni : List.of("15022.mgmt.demo.svc.meshfed", "15022.hello.demo.svc.meshfed")) {
            assertThat(callThroughGateway(EAST_GATEWAY, sni)).doesNotContain("HTTP/1.1 200");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> metric("http://" + EAST_GATEWAY + ":15021/metrics",
                "meshfed_gateway_refusals_total{reason=\"unknown_service\"}") >= before + 2);
        assertThat(controllerMetric("meshfed_registration_refusals_total{reason=\"no_inbound\"}")).isPositive();
        // The agent's own report (with its inbound) stands.
        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
    }

    // --- attack 4: a second member's gateway in network west ------------------------------------------------------

    @Test
    @Order(4)
    void anotherMembersGatewayInWestDoesNotBecomeWestsGateway() throws Exception {
        admin.stub().addMember(AddMemberRequest.newBuilder().setName("west-b").setType("vm").setNetwork("west")
                .build());
        String token = admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("west-b")
                .setRole(Role.ROLE_GATEWAY).build()).getToken();
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        SpiffeId id = SpiffeId.parse("spiffe://west-b.meshfed.local/meshfed/gateway/rogue");
        var joined = JoinServiceGrpc.newBlockingStub(joinChannel(token)).withDeadlineAfter(20, TimeUnit.SECONDS)
                .join(JoinRequest.newBuilder().setToken(token).setRole(Role.ROLE_GATEWAY).setMember("west-b")
                        .setName("rogue").addAdvertisedAddresses("127.0.2.9:15443")
                        .setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, id))).build());
        X509Svid rogue = X509Svid.of(id, joined.getSvidChainList().stream().map(b -> Pem.certificateFromDer(
                b.toByteArray())).toList(), keys.getPrivate());
        ManagedChannel asRogue = ControllerChannels.mtls(CONTROLLER, TlsCredentials.of(rogue,
                new StateDir(qs.resolve("west/agent")).bundles()),
                SpiffeId.parse("spiffe://meshfed.local/meshfed/controller"), Clock.systemUTC());
        try {
            RegistrationServiceGrpc.newBlockingStub(asRogue).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .reportReadiness(io.meshfed.api.v1.ReadinessReport.newBuilder().setReady(true)
                            .addAddresses("127.0.2.9:15443").build());
        } finally {
            asRogue.shutdownNow();
        }
        try (StreamProbe east = new StreamProbe(asEastAgent)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> east.snapshot != null);
            assertThat(east.snapshot.getGatewaysList()).filteredOn(g -> g.getNetwork().equals("west"))
                    .singleElement().satisfies(g -> assertThat(g.getAddress()).isEqualTo(WEST_GATEWAY + ":15443"));
        }
        assertThat(admin.stub().listNetworks(ListRequest.getDefaultInstance()).getNetworksList().stream()
                .filter(n -> n.getName().equals("west")).findFirst().orElseThrow().getGatewayMembersList())
                .containsExactly("west");
        // West's snapshot names only west's own gateway for east's hello, and east's gateway only for west's echo.
        StateDir westAgent = new StateDir(qs.resolve("west/agent"));
        ManagedChannel asWestAgent = ControllerChannels.mtls(CONTROLLER, TlsCredentials.of(westAgent.svid(),
                westAgent.bundles()), SpiffeId.parse("spiffe://meshfed.local/meshfed/controller"), Clock.systemUTC());
        try (StreamProbe west = new StreamProbe(asWestAgent)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> west.snapshot != null);
            var hello = west.snapshot.getServicesList().stream().filter(x -> x.getName().equals("hello"))
                    .findFirst().orElseThrow();
            assertThat(hello.getNetworksList()).singleElement().satisfies(n -> assertThat(n.getRoutesList())
                    .allSatisfy(r -> {
                        assertThat(r.getGatewayAddress()).isEqualTo(EAST_GATEWAY + ":15443");
                        assertThat(r.getIdentitiesList()).containsExactly(
                                "spiffe://east.meshfed.local/meshfed/gateway/east-gw");
                    }));
        } finally {
            asWestAgent.shutdownNow();
        }
        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
    }

    // --- attacks 5 and 6: stalled connections on the HTTP listeners ---------------------------------------------

    @Test
    @Order(5)
    void halfATlsRecordOnTheControllersHttpsPortStallsNothing() throws Exception {
        List<Socket> stalled = stall("127.0.0.1", 15014, new byte[] {0x16, 0x03, 0x01}); // a record header, no more
        try {
            SSLContext ctx = SpiffeTls.jdk(new SpiffeTrustManager(stolenCredentials, PeerAuthorizer.anyVerified(),
                    Clock.systemUTC()), new SpiffeKeyManager(stolenCredentials));
            HttpResponse<String> ready = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(1))
                    .build().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:15014/readyz"))
                            .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
        } finally {
            closeAll(stalled);
        }
    }

    @Test
    @Order(6)
    void headersThatNeverEndStallNeitherTheGatewaysNorTheAgentsHealthPort() throws Exception {
        for (String hostPort : List.of(EAST_GATEWAY + ":15021", "127.0.1.2:15020")) {
            String host = hostPort.substring(0, hostPort.indexOf(':'));
            int port = Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1));
            List<Socket> stalled = stall(host, port, "GET /readyz HTTP/1.1\r\nHost: x\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            try {
                HttpResponse<String> ready = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()
                        .send(HttpRequest.newBuilder(URI.create("http://" + hostPort + "/readyz"))
                                .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(ready.statusCode()).as(hostPort).isEqualTo(200);
            } finally {
                closeAll(stalled);
            }
        }
    }

    // --- attack 12: who may read the controller's state -----------------------------------------------------------

    @Test
    @Order(12)
    void theControllersDataDirectoryAndStoreAreOwnerOnly() throws Exception {
        Path data = qs.resolve("controller");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(data)))
                .isEqualTo("rwx------");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                data.resolve("state.db")))).isEqualTo("rw-------");
    }

    // --- attack 7: junk ports to exhaust the listen-port range ---------------------------------------------------

    @Test
    @Order(7)
    void junkServicePortsAreRefusedBeyondTheMembersQuotaAndFreedWhenWithdrawn() throws Exception {
        // An agent of east whose token allows any service of namespace demo.
        String token = admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                .setRole(Role.ROLE_AGENT).setNamespace("demo").build()).getToken();
        ManagedChannel asJunk = joinAgent(token, "east", "junk", "east/agent");
        try {
            WorkloadInstance[] junk = IntStream.range(0, 256).mapToObj(i -> workload("junk-" + i, "127.0.1.9", 8080,
                    true)).toArray(WorkloadInstance[]::new);

            Status refused = refusal(() -> report(asJunk, junk));

            // east holds hello.demo's port already: 255 more fit its quota of 256, the last one does not.
            assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(refused.getDescription()).contains("1 of 256 workloads refused")
                    .contains("junk-255.demo port 8080: member east already holds its quota of 256 service ports");
            assertThat(controllerMetric("meshfed_registration_refusals_total{reason=\"port_quota\"}")).isEqualTo(1);
            // West's agent reports as before, and the cross-network call works.
            assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");

            report(asJunk); // withdrawn: every junk port is free again
            var services = admin.stub().listServices(ListRequest.getDefaultInstance()).getServicesList();
            assertThat(services).noneMatch(s -> s.getName().startsWith("junk-"));
            assertThat(services).filteredOn(s -> s.getName().equals("hello")).singleElement()
                    .satisfies(s -> assertThat(s.getOutboundPortsList()).extracting(o -> o.getServicePort())
                            .containsExactly(8080));
        } finally {
            asJunk.shutdownNow();
        }
        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
    }

    // --- attack 8: a long-lived SVID from a renewal -------------------------------------------------------------

    @Test
    @Order(8)
    void renewalGivesAtMostTheMaximumLifetime() throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        RenewResponse renewed = JoinServiceGrpc.newBlockingStub(asEastAgent).withDeadlineAfter(20, TimeUnit.SECONDS)
                .renew(RenewRequest.newBuilder().setTtlSeconds(Duration.ofDays(3650).toSeconds())
                        .setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, stolen.id()))).build());
        X509Certificate leaf = Pem.certificateFromDer(renewed.getSvidChain(0).toByteArray());
        assertThat(leaf.getNotAfter().toInstant()).isBefore(Instant.now().plus(Duration.ofHours(24))
                .plusSeconds(60));
        assertThat(renewed.getTtlCapped()).isTrue();
    }

    // --- attack 9: a namespace that forges a longer SPIFFE path ----------------------------------------------------

    @Test
    @Order(9)
    void aNamespaceWithSlashesIsRefusedAtTokenAndAtJoin() throws Exception {
        StatusRuntimeException atToken = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                        .setRole(Role.ROLE_AGENT).setNamespace("a/vm/b").build()));
        assertThat(atToken.getStatus().getDescription()).contains("namespace").contains("a/vm/b");
        String token = admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                .setRole(Role.ROLE_AGENT).addServices("hello.demo").build()).getToken();
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        Status refused = refusal(() -> JoinServiceGrpc.newBlockingStub(joinChannel(token))
                .withDeadlineAfter(20, TimeUnit.SECONDS).join(JoinRequest.newBuilder().setToken(token)
                        .setRole(Role.ROLE_AGENT).setMember("east").setName("vmx").setNamespace("a/vm/b")
                        .setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys,
                                SpiffeId.parse("spiffe://east.meshfed.local/ns/demo/vm/vmx")))).build()));
        assertThat(refused.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(refused.getDescription()).contains("namespace 'a/vm/b' must be a DNS label");
        assertThat(Files.readString(qs.resolve("logs/controller.log"))).contains("join refused")
                .contains("reason=bad_name");
    }

    // --- attack 10: thousands of config streams with one SVID -----------------------------------------------------

    @Test
    @Order(10)
    void configStreamsAreLimitedPerIdentity() throws Exception {
        List<StreamProbe> probes = new ArrayList<>();
        try {
            for (int i = 0; i < 9; i++) { // the real agent holds one already
                probes.add(new StreamProbe(asEastAgent));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> probes.stream().filter(p -> p.error != null).count()
                    + probes.stream().filter(p -> p.snapshot != null).count() == probes.size());
            List<Status> refused = probes.stream().filter(p -> p.error != null).map(p -> Status.fromThrowable(p.error))
                    .toList();
            long opened = probes.stream().filter(p -> p.snapshot != null).count();
            assertThat(opened).as("the real agent holds one of the 8").isLessThanOrEqualTo(7);
            assertThat(refused).hasSize(9 - (int) opened).allSatisfy(s -> {
                assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(s.getDescription()).contains(stolen.id() + " has 8 config streams open");
            });
        } finally {
            probes.forEach(StreamProbe::close);
        }
        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
    }

    // --- attack 11: report and never open a config stream ----------------------------------------------------------

    @Test
    @Order(11)
    void aReporterWithoutAConfigStreamLosesItsWorkloadsAfterTheGracePeriod() throws Exception {
        admin.stub().addMember(AddMemberRequest.newBuilder().setName("north").setType("vm").setNetwork("east")
                .build());
        String token = admin.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("north")
                .setRole(Role.ROLE_AGENT).addServices("ghost.demo").build()).getToken();
        SpiffeId id = SpiffeId.parse("spiffe://north.meshfed.local/ns/demo/vm/ghost");
        ManagedChannel asGhost = joinAgent(token, "north", "ghost", "east/agent");
        try {
            report(asGhost, workload("ghost", "127.0.1.10", 8080, true));
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.stub().listServices(ListRequest
                    .getDefaultInstance()).getServicesList().stream().filter(s -> s.getName().equals("ghost"))
                    .flatMap(s -> s.getNetworksList().stream()).flatMap(n -> n.getEndpointsList().stream())
                    .noneMatch(e -> e.getHealthy()));
        } finally {
            asGhost.shutdownNow();
        }
        assertThat(Files.readString(qs.resolve("logs/controller.log"))).contains("agent " + id
                + " has had no config stream");
        // The quickstart's own agents keep their streams, and with them their workloads.
        assertThat(httpGet("http://" + crossNetworkEntry + "/")).isEqualTo("hello from hello.demo in network east\n");
    }

    // --- attack 8, continued: revocation ends the stolen identity ------------------------------------------------

    @Test
    @Order(99)
    void aRevokedIdentityCannotRenewLosesItsStreamAndItsWorkloads() throws Exception {
        StreamProbe stream = new StreamProbe(asEastAgent);
        await().atMost(Duration.ofSeconds(20)).until(() -> stream.snapshot != null);

        admin.stub().revokeIdentity(io.meshfed.api.v1.RevokeIdentityRequest.newBuilder()
                .setSpiffeId(stolen.id().toString()).build());

        await().atMost(Duration.ofSeconds(10)).until(() -> stream.error != null);
        assertThat(Status.fromThrowable(stream.error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(Status.fromThrowable(stream.error).getDescription()).contains("revoked");
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        Status renew = refusal(() -> JoinServiceGrpc.newBlockingStub(asEastAgent).withDeadlineAfter(20,
                TimeUnit.SECONDS).renew(RenewRequest.newBuilder().setCsr(ByteString.copyFrom(
                        CertificateSigningRequests.createDer(keys, stolen.id()))).build()));
        assertThat(renew.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(renew.getDescription()).contains("revoked");
        await().atMost(Duration.ofSeconds(10)).until(() -> admin.stub().listServices(ListRequest.getDefaultInstance())
                .getServicesList().stream().filter(s -> s.getName().equals("hello"))
                .flatMap(s -> s.getNetworksList().stream()).flatMap(n -> n.getEndpointsList().stream())
                .noneMatch(e -> e.getHealthy()));
        // West's own service still answers through the edge gateway.
        assertThat(httpGet("http://127.0.0.1:18000/echo/after-revocation")).contains("GET /after-revocation");
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    private interface Call {
        void run() throws Exception;
    }

    /** The status a call was refused with, or null when it succeeded. */
    private static Status refusal(Call call) throws Exception {
        try {
            call.run();
            return null;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    /** What east's agent reports itself (agent.yaml of the quickstart): hello.demo behind its inbound. */
    private static WorkloadInstance eastsOwnWorkload() {
        return workload("hello", "127.0.1.2", 8080, true);
    }

    /** Joins an agent as meshfed-agent join does (key made here, CSR sent); a channel with its new SVID. */
    private ManagedChannel joinAgent(String token, String member, String name, String bundlesFrom) throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        SpiffeId id = SpiffeId.parse("spiffe://" + member + ".meshfed.local/ns/demo/vm/" + name);
        var joined = JoinServiceGrpc.newBlockingStub(joinChannel(token)).withDeadlineAfter(20, TimeUnit.SECONDS)
                .join(JoinRequest.newBuilder().setToken(token).setRole(Role.ROLE_AGENT).setMember(member)
                        .setName(name).setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, id)))
                        .build());
        X509Svid svid = X509Svid.of(id, joined.getSvidChainList().stream().map(b -> Pem.certificateFromDer(
                b.toByteArray())).toList(), keys.getPrivate());
        return ControllerChannels.mtls(CONTROLLER, TlsCredentials.of(svid,
                new StateDir(qs.resolve(bundlesFrom)).bundles()),
                SpiffeId.parse("spiffe://meshfed.local/meshfed/controller"), Clock.systemUTC());
    }

    private static WorkloadInstance workload(String service, String host, int port, boolean healthy) {
        return WorkloadInstance.newBuilder().setService(service).setNamespace("demo").setAddress(host).setPort(port)
                .setHealthy(healthy).setInbound(host + ":15006").build();
    }

    private static void report(ManagedChannel channel, WorkloadInstance... workloads) {
        RegistrationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .reportWorkloads(WorkloadReport.newBuilder().addAllWorkloads(List.of(workloads)).build());
    }

    private ManagedChannel joinChannel(String token) throws Exception {
        return io.grpc.netty.NettyChannelBuilder.forTarget(CONTROLLER).sslContext(io.grpc.netty.GrpcSslContexts
                .configure(SpiffeTls.nettyClientBuilder(io.meshfed.trust.tls.TlsProvider.preferred(),
                        new io.meshfed.trust.tls.PinnedRootTrustManager(token.substring(token.lastIndexOf('.') + 1),
                                "/meshfed/controller", Clock.systemUTC()), null),
                        io.meshfed.trust.tls.TlsProvider.preferred().netty()).build()).build();
    }

    /** mTLS to a gateway's port 15443 with the stolen SVID and {@code sni}; what it answered an HTTP request with. */
    private String callThroughGateway(String host, String sni) throws Exception {
        SSLContext ctx = SpiffeTls.jdk(new SpiffeTrustManager(stolenCredentials, PeerAuthorizer.anyVerified(),
                Clock.systemUTC()), new SpiffeKeyManager(stolenCredentials));
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress(host, 15443), 5_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (IOException closedByTheGateway) {
                return ""; // the counter, checked by the caller, says why
            }
        }
    }

    private static String httpGet(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    private static long metric(String url, String series) throws Exception {
        String body = httpGet(url);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.E+]+)$").matcher(body);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    /** A counter on the controller's /metrics (HTTPS; scraped without a client certificate, as Prometheus does). */
    private long controllerMetric(String series) throws Exception {
        String body;
        SSLContext ctx = SpiffeTls.jdk(new SpiffeTrustManager(stolenCredentials, PeerAuthorizer.anyVerified(),
                Clock.systemUTC()), new SpiffeKeyManager(stolenCredentials));
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(ctx).build().send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:15014/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        body = r.body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.E+]+)$").matcher(body);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    /** One config stream opened with a channel's identity; remembers its first snapshot or its error. */
    private static final class StreamProbe implements AutoCloseable {
        volatile ConfigSnapshot snapshot;
        volatile Throwable error;
        private final StreamObserver<ConfigRequest> requests;

        StreamProbe(ManagedChannel channel) {
            requests = ConfigServiceGrpc.newStub(channel).streamConfig(new StreamObserver<>() {
                @Override
                public void onNext(ConfigSnapshot s) {
                    if (snapshot == null) {
                        snapshot = s;
                    }
                }

                @Override
                public void onError(Throwable t) {
                    error = t;
                }

                @Override
                public void onCompleted() {}
            });
            requests.onNext(ConfigRequest.newBuilder().setSubscribe(Subscribe.getDefaultInstance()).build());
        }

        @Override
        public void close() {
            try {
                requests.onCompleted();
            } catch (RuntimeException alreadyClosed) {
                // ended by the server
            }
        }
    }

    /** 64 connections that each send {@code prefix} and then nothing, held open. */
    private static List<Socket> stall(String host, int port, byte[] prefix) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(host, port), 2_000);
            s.getOutputStream().write(prefix);
            s.getOutputStream().flush();
            sockets.add(s);
        }
        return sockets;
    }

    private static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closed by the server already
            }
        }
    }
}
