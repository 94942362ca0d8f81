package io.meshfed.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.Ack;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.Subscribe;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.api.v1.SvidReport;
import io.meshfed.api.v1.TrustRotation;
import io.meshfed.cli.admin.AdminClient;
import io.meshfed.client.Joiner;
import io.meshfed.client.NodeSession;
import io.meshfed.client.StateDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Root rotation of east's trust domain in the running quickstart (eight real processes: controller, two gateways, two
 * agents, two sample services, the edge gateway) while a bounded load loop calls hello.demo (in east) through both
 * gateways, through west's agent and east's gateway, and through the edge gateway, each call on a new connection:
 * not one call may fail, on the client or in the gateways' counters, while rotations complete and abort and the
 * controller is SIGKILLed in each phase and restarted. The rotations are driven with the meshfed CLI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RootRotationE2ETest {
    private static final String EAST = "east.meshfed.local";
    private static final String HELLO = "hello from hello.demo in network east\n";
    private static final Duration PHASE_WAIT = Duration.ofSeconds(90);

    @TempDir
    static Path work;
    private RunningQuickstart quickstart;
    private Map<String, String> env;
    private List<String> controllerCommand;
    private Process controller; // the controller this test restarted (the quickstart's own until the first kill)
    private long controllerPid;
    private Path logs;
    private List<String> targets;
    private Load load;

    @BeforeAll
    void startQuickstart() throws Exception {
        quickstart = RunningQuickstart.start(work);
        env = quickstart.env;
        logs = Files.createDirectories(work.resolve("test-logs"));
        controllerPid = quickstart.pid("controller");
        ProcessHandle.Info info = ProcessHandle.of(controllerPid).orElseThrow().info();
        controllerCommand = new ArrayList<>();
        controllerCommand.add(info.command().orElseThrow());
        controllerCommand.addAll(List.of(info.arguments().orElseThrow()));
        targets = List.of(quickstart.field("hello.demo from west through both gateways"),
                quickstart.field("hello.demo from west through west's agent and east's gateway"),
                quickstart.field("hello.demo from outside through the edge gateway") + "rotation");
    }

    @AfterAll
    void stopQuickstart() throws Exception {
        if (controller != null) {
            controller.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        if (quickstart != null) {
            quickstart.close();
        }
    }

    @BeforeEach
    void startLoad() throws Exception {
        for (String target : targets) {
            await().atMost(PHASE_WAIT).ignoreExceptions().until(() -> PlainHttp.get(target).equals(HELLO));
        }
        load = Load.start(targets);
    }

    @AfterEach
    void stopLoad() throws Exception {
        load.close();
    }

    /** Calls every target in turn, each call on a new connection, until closed; counts and keeps every failure. */
    static final class Load implements AutoCloseable {
        private final AtomicLong ok = new AtomicLong();
        private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        private volatile boolean running = true;
        private final List<Thread> threads = new ArrayList<>();

        static Load start(List<String> targets) {
            Load l = new Load();
            for (String target : targets) {
                Thread t = new Thread(() -> l.loop(target), "load " + target);
                t.setDaemon(true);
                l.threads.add(t);
                t.start();
            }
            return l;
        }

        private void loop(String target) {
            while (running) {
                try {
                    String body = PlainHttp.get(target);
                    if (body.equals(HELLO)) {
                        ok.incrementAndGet();
                    } else {
                        failures.add(java.time.Instant.now() + " " + target + ": body '" + body + "'");
                    }
                } catch (IOException | RuntimeException e) {
                    failures.add(java.time.Instant.now() + " " + target + ": " + e);
                }
                try {
                    Thread.sleep(20); // bounded: about 50 calls a second per target
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        long ok() {
            return ok.get();
        }

        List<String> failures() {
            synchronized (failures) {
                return List.copyOf(failures);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }

    private AdminClient admin() {
        return AdminClient.connect(env);
    }

    private Processes.Result meshfed(String... args) throws Exception {
        return quickstart.meshfed(args);
    }

    private TrustRotation rotation() {
        try (AdminClient a = admin()) {
            return a.stub().listRotations(ListRequest.getDefaultInstance()).getRotationsList().stream()
                    .filter(r -> r.getTrustDomain().equals(EAST)).findFirst().orElseThrow();
        }
    }

    private TrustRotation awaitPhase(long number, String phase) {
        await().atMost(PHASE_WAIT).ignoreExceptions().untilAsserted(() -> {
            TrustRotation r = rotation();
            assertThat(r.getNumber()).isEqualTo(number);
            assertThat(r.getPhase()).as(r.toString()).isEqualTo(phase);
        });
        return rotation();
    }

    private List<SubscriberStatus> eastSubscribers() {
        try (AdminClient a = admin()) {
            return a.stub().status(ListRequest.getDefaultInstance()).getSubscribersList().stream()
                    .filter(s -> s.getSpiffeId().startsWith("spiffe://" + EAST + "/")).toList();
        }
    }

    /** Waits until east's gateway and agent both report an SVID chaining to the root {@code sha256}. */
    private void awaitEastSvidsChainTo(String sha256) {
        await().atMost(PHASE_WAIT).ignoreExceptions().untilAsserted(() -> assertThat(eastSubscribers())
                .extracting(SubscriberStatus::getSpiffeId, SubscriberStatus::getSvidRootSha256)
                .contains(org.assertj.core.groups.Tuple.tuple("spiffe://" + EAST + "/meshfed/gateway/east-gw", sha256),
                        org.assertj.core.groups.Tuple.tuple("spiffe://" + EAST + "/ns/demo/vm/east-vm", sha256)));
    }

    /** SIGKILL, then the same command again; returns once it is ready. */
    private void killAndRestartController() throws Exception {
        if (controller != null) {
            controller.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        } else {
            ProcessHandle original = ProcessHandle.of(controllerPid).orElseThrow();
            original.destroyForcibly();
            original.onExit().get(30, TimeUnit.SECONDS);
        }
        Path log = logs.resolve("controller-" + System.nanoTime() + ".log");
        controller = new ProcessBuilder(controllerCommand).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        await().atMost(PHASE_WAIT).until(() -> {
            assertThat(controller.isAlive()).as(() -> readQuietly(log)).isTrue();
            return Files.readString(log).contains("meshfed controller ready");
        });
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The sum of every refusal and upstream failure counter of both gateways. */
    private static long gatewayFailures() throws IOException {
        long sum = 0;
        for (String host : List.of("127.0.1.1", "127.0.2.1")) {
            String body = new String(new java.net.URL("http://" + host + ":15021/metrics").openStream()
                    .readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("(?m)^meshfed_gateway_(?:refusals|upstream_failures)_total\\{[^}]*} ([0-9.E]+)$")
                    .matcher(body);
            while (m.find()) {
                sum += (long) Double.parseDouble(m.group(1));
            }
        }
        return sum;
    }

    private void assertNoCallFailed(long gatewayFailuresBefore) throws Exception {
        long before = load.ok();
        await().atMost(PHASE_WAIT).until(() -> load.ok() > before + 30); // still flowing at the end
        load.close();
        assertThat(load.failures()).as("failed calls").isEmpty();
        assertThat(load.ok()).isGreaterThan(100);
        System.out.println("rotation under load: " + load.ok() + " calls on new connections, none failed");
        assertThat(gatewayFailures()).as("gateway refusals and upstream failures").isEqualTo(gatewayFailuresBefore);
    }

    /**
     * A stream of an east identity of the test's own that ACKs every snapshot but reports no SVID until told: it
     * holds the issue and aborting phases for as long as the test wants.
     */
    private static final class HeldStream implements AutoCloseable {
        private final StreamObserver<ConfigRequest> requests;

        HeldStream(NodeSession session) {
            requests = ConfigServiceGrpc.newStub(session.channel()).streamConfig(new StreamObserver<>() {
                @Override
                public void onNext(ConfigSnapshot s) {
                    send(ConfigRequest.newBuilder().setAck(Ack.newBuilder().setVersion(s.getVersion())
                            .setNonce(s.getNonce())).build());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            });
            send(ConfigRequest.newBuilder().setSubscribe(Subscribe.getDefaultInstance()).build());
        }

        synchronized void send(ConfigRequest r) {
            requests.onNext(r);
        }

        void report(io.meshfed.trust.X509Svid svid) throws Exception {
            SvidReport.Builder b = SvidReport.newBuilder();
            for (java.security.cert.X509Certificate c : svid.chain()) {
                b.addChain(com.google.protobuf.ByteString.copyFrom(c.getEncoded()));
            }
            send(ConfigRequest.newBuilder().setSvid(b).build());
        }

        @Override
        public void close() {
            try {
                requests.onCompleted();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }
    }

    @Test
    @Order(1)
    void abortInEachPhaseUnderLoadReturnsToTheOldRootWithoutAFailedCall() throws Exception {
        long failuresBefore = gatewayFailures();
        // Abort in add-root: a soak of an hour holds the phase; the new root goes again, nothing was issued from it.
        Processes.Result started = meshfed("trust", "rotate", EAST, "--soak", "1h");
        assertThat(started.stdout()).contains(EAST).contains("add-root");
        String oldRoot = rotation().getFromRootSha256();
        await().atMost(PHASE_WAIT).untilAsserted(() -> assertThat(meshfed("trust", "rotation", "status").stdout())
                .contains(EAST + " waits: soak: the phase lasts until "));
        assertThat(meshfed("status").stdout()).contains("Root rotations in progress");
        Processes.Result aborted = meshfed("trust", "rotation", "abort");
        assertThat(aborted.stdout()).contains("aborted");
        awaitEastSvidsChainTo(oldRoot);

        // Abort in issue, with the controller killed while aborting: a probe identity of east holds the phases.
        String token;
        try (AdminClient a = admin()) {
            token = a.stub().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember("east")
                    .setRole(Role.ROLE_AGENT).setNamespace("demo").build()).getToken();
        }
        StateDir probeState = new StateDir(work.resolve("probe"));
        Joiner.join("127.0.0.1:15012", token, new Joiner.Identity(Role.ROLE_AGENT, "east", "probe", "demo",
                List.of()), probeState, Clock.systemUTC());
        try (NodeSession probe = NodeSession.open(probeState, Clock.systemUTC())) {
            HeldStream held = new HeldStream(probe);
            meshfed("trust", "rotate", EAST);
            awaitPhase(2, "issue");
            String newRoot = rotation().getToRootSha256();
            awaitEastSvidsChainTo(newRoot); // the gateway and the agent renewed toward the new root
            await().atMost(PHASE_WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList()).containsExactly(
                    "spiffe://" + EAST + "/ns/demo/vm/probe has not reported its SVID")); // at the next check
            assertThat(meshfed("trust", "rotation", "abort", EAST).stdout()).contains("aborting");
            awaitEastSvidsChainTo(oldRoot); // and back

            killAndRestartController();
            held.close();
            assertThat(rotation().getPhase()).isEqualTo("aborting");
            held = new HeldStream(probe);
            held.report(probeState.svid()); // its SVID never left the old root
            awaitPhase(2, "aborted");
            held.close();
        }
        assertNoCallFailed(failuresBefore);
    }

    @Test
    @Order(2)
    void aRotationUnderLoadWithTheControllerKilledInEachPhaseCompletesWithoutAFailedCall() throws Exception {
        long failuresBefore = gatewayFailures();
        Processes.Result started = meshfed("trust", "rotate", EAST, "--soak", "3s");
        assertThat(started.stdout()).contains("add-root");
        TrustRotation r = rotation();
        long number = r.getNumber();

        killAndRestartController(); // in add-root
        assertThat(rotation().getPhase()).isIn("add-root", "issue");
        awaitPhase(number, "issue");
        killAndRestartController(); // in issue
        assertThat(rotation().getPhase()).isIn("issue", "completed");
        awaitPhase(number, "completed");
        awaitEastSvidsChainTo(r.getToRootSha256());
        assertThat(meshfed("trust", "rotation", "status").stdout()).contains("completed");
        assertThat(meshfed("status").stdout()).doesNotContain("Root rotations in progress");
        assertNoCallFailed(failuresBefore);
    }
}
