package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delta push over real gRPC and mTLS: a subscriber that takes deltas holds, version for version, what one that takes
 * whole snapshots holds, on a random sequence of catalog changes; it gets the whole snapshot first, after a NACK, and
 * when it cannot apply a delta, and a delta again when it reconnects holding a version the controller remembers.
 */
class ConfigDeltaStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final List<String> SERVICES = List.of("hello", "billing", "cart", "ledger");

    @TempDir
    Path dir;
    private TestFederation federation;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                .build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").setGatewayAddress("127.0.2.1:15443")
                .build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private ManagedChannel gateway(String member, String name) throws Exception {
        return federation.channel(federation.memberSvid(member + ".acme.mesh", "/meshfed/gateway/" + name));
    }

    private void report(String member, String vm, List<WorkloadInstance> workloads) throws Exception {
        ManagedChannel agent = federation.channel(federation.memberSvid(member + ".acme.mesh", "/ns/demo/vm/" + vm));
        try {
            RegistrationServiceGrpc.newBlockingStub(agent).reportWorkloads(
                    WorkloadReport.newBuilder().addAllWorkloads(workloads).build());
        } finally {
            agent.shutdownNow();
        }
    }

    private static WorkloadInstance workload(String service, String address, int port, boolean healthy) {
        return WorkloadInstance.newBuilder().setService(service).setNamespace("demo").setAddress(address)
                .setPort(port).setHealthy(healthy).setInbound(address + ":15006").build();
    }

    private static ConfigSnapshot content(ConfigSnapshot s) {
        return s.toBuilder().clearNonce().clearSubscriber().build();
    }

    @Test
    void aSubscriberTakingDeltasHoldsWhatWholeSnapshotsGiveOnARandomSequenceOfChanges() throws Exception {
        Random random = new Random(17);
        Map<String, ConfigSnapshot> wholeSeen = new ConcurrentHashMap<>();
        Map<String, ConfigSnapshot> deltaSeen = new ConcurrentHashMap<>();
        try (TestSubscriber whole = new TestSubscriber(gateway("west", "gw-whole"), "", s -> {
            wholeSeen.put(s.getVersion(), content(s));
            return false;
        }); TestSubscriber delta = TestSubscriber.takingDeltas(gateway("west", "gw-delta"), "", null, s -> {
            deltaSeen.put(s.getVersion(), content(s));
            return false;
        }); TestSubscriber eastDelta = TestSubscriber.takingDeltas(gateway("east", "gw"), "", null, s -> false);
                TestSubscriber eastWhole = new TestSubscriber(gateway("east", "gw-whole"))) {
            whole.awaitSnapshot(s -> true, WAIT);
            delta.awaitSnapshot(s -> true, WAIT);
            List<String> exported = new ArrayList<>();
            for (int step = 0; step < 30; step++) {
                switch (random.nextInt(5)) {
                    case 0, 1 -> { // an east VM reports a new set of workloads
                        int vm = random.nextInt(3);
                        List<WorkloadInstance> w = new ArrayList<>();
                        for (String service : SERVICES) {
                            for (int i = random.nextInt(4); i > 0; i--) {
                                w.add(workload(service, "10.0." + (10 + vm) + "." + (1 + random.nextInt(200)),
                                        8080 + random.nextInt(2), random.nextInt(5) > 0));
                            }
                        }
                        report("east", "vm-" + vm, w);
                    }
                    case 2 -> report("west", "vm-w", List.of(workload(SERVICES.get(random.nextInt(SERVICES.size())),
                            "10.0.2." + (1 + random.nextInt(200)), 9090, true)));
                    case 3 -> {
                        String service = SERVICES.get(random.nextInt(SERVICES.size()));
                        ExportRequest request = ExportRequest.newBuilder().setService(service).setNamespace("demo")
                                .addToMembers(random.nextBoolean() ? "west" : "east").build();
                        if (exported.remove(request.toString())) {
                            federation.admin().unexport(request);
                        } else {
                            federation.admin().export(request);
                            exported.add(request.toString());
                        }
                    }
                    default -> federation.admin().createNetwork(CreateNetworkRequest.newBuilder() // a gateway comes
                            .setName("net-" + step).setGatewayAddress("127.0.3." + step + ":15443").build());
                }
                if (random.nextBoolean()) {
                    Thread.sleep(random.nextInt(150)); // sometimes changes come in bursts, sometimes apart
                }
            }
            // Both end on the controller's latest version, and every version both saw is the same content.
            await().atMost(WAIT).until(() -> whole.latest().getVersion().equals(delta.latest().getVersion())
                    && eastWhole.latest() != null && eastDelta.latest() != null
                    && eastWhole.latest().getVersion().equals(eastDelta.latest().getVersion())
                    && whole.latest().getServicesCount() > 0);
            Thread.sleep(500); // nothing more is on its way
            assertThat(delta.latest().getVersion()).isEqualTo(whole.latest().getVersion());
            assertThat(content(delta.latest())).isEqualTo(content(whole.latest()));
            assertThat(content(eastDelta.latest())).isEqualTo(content(eastWhole.latest()));
            List<String> common = deltaSeen.keySet().stream().filter(wholeSeen::containsKey).toList();
            assertThat(common).hasSizeGreaterThan(3);
            for (String v : common) {
                assertThat(deltaSeen.get(v)).as("version %s", v).isEqualTo(wholeSeen.get(v));
            }
            assertThat(delta.nacks()).isEmpty();
            assertThat(eastDelta.nacks()).isEmpty();
            List<ConfigSnapshot> messages = delta.messages();
            assertThat(messages.get(0).hasDelta()).as("the first push is whole").isFalse();
            assertThat(messages.subList(1, messages.size())).as("every later push is a delta")
                    .allSatisfy(m -> assertThat(m.hasDelta()).isTrue());
            assertThat(whole.messages()).noneSatisfy(m -> assertThat(m.hasDelta()).isTrue());
            long deltaBytes = messages.subList(1, messages.size()).stream().mapToLong(ConfigSnapshot::getSerializedSize)
                    .sum();
            long wholeBytes = whole.messages().subList(1, whole.messages().size()).stream()
                    .mapToLong(ConfigSnapshot::getSerializedSize).sum();
            assertThat(deltaBytes).as("bytes after the first push, deltas against whole").isLessThan(wholeBytes);
            String metrics = Http.get(federation, "/metrics").body();
            assertThat(metrics).containsPattern("meshfed_config_push_messages_total\\{kind=\"delta\"} [1-9]")
                    .containsPattern("meshfed_config_push_bytes_total\\{kind=\"whole\"} [1-9]");
        }
    }

    @Test
    void afterANackTheNextPushIsWholeAndDeltasFollowAgain() throws Exception {
        try (TestSubscriber first = TestSubscriber.takingDeltas(gateway("west", "gw"), "", null, s -> false)) {
            first.awaitSnapshot(s -> true, WAIT);
            AtomicBoolean rejectOnce = new AtomicBoolean(true);
            try (TestSubscriber s = TestSubscriber.takingDeltas(gateway("west", "gw-2"), "", null,
                    x -> x.getServicesCount() > 0 && rejectOnce.getAndSet(false))) {
                ConfigSnapshot before = s.awaitSnapshot(x -> true, WAIT);
                report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true)));
                federation.admin().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                        .addToMembers("west").build());
                await().atMost(WAIT).until(() -> s.nacks().size() == 1);
                assertThat(s.nacks()).containsExactly("test rejects this version");
                assertThat(s.messages().get(s.messages().size() - 1).hasDelta()).isTrue();
                assertThat(s.latest().getVersion()).as("it keeps what it held").isEqualTo(before.getVersion());
                int pushes = s.messages().size();

                // The content was refused, not the delta: it is not sent again, and the next push is whole.
                report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true),
                        workload("hello", "10.0.1.6", 8080, true)));
                await().atMost(WAIT).until(() -> s.messages().size() > pushes);
                ConfigSnapshot next = s.awaitSnapshot(x -> x.getServicesCount() > 0
                        && x.getServices(0).getNetworks(0).getHealthyEndpoints() == 2, WAIT);
                assertThat(s.messages()).hasSize(pushes + 1);
                assertThat(s.messages().get(pushes).hasDelta()).as("after a NACK, whole").isFalse();

                report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true)));
                s.awaitSnapshot(x -> !x.getVersion().equals(next.getVersion()), WAIT);
                assertThat(s.messages().get(s.messages().size() - 1).hasDelta()).as("deltas again").isTrue();
                assertThat(s.nacks()).hasSize(1);
            }
        }
    }

    /** A controller restart (or a failover to another replica) does not cost every subscriber a whole snapshot. */
    @Test
    void afterAControllerRestartASubscriberHoldingTheCurrentVersionGetsDeltas() throws Exception {
        report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true)));
        federation.admin().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .addToMembers("west").build());
        ConfigSnapshot held;
        try (TestSubscriber s = TestSubscriber.takingDeltas(gateway("west", "gw"), "", null, x -> false)) {
            held = s.awaitSnapshot(x -> x.getServicesCount() > 0, WAIT);
        }
        federation.restart();
        try (TestSubscriber back = TestSubscriber.takingDeltas(gateway("west", "gw"), held.getVersion(), held,
                x -> false)) {
            Thread.sleep(500);
            assertThat(back.messages()).as("it holds the current version: nothing to send").isEmpty();
            report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true),
                    workload("hello", "10.0.1.6", 8080, true)));
            back.awaitSnapshot(x -> !x.getVersion().equals(held.getVersion()), WAIT);
            assertThat(back.messages()).singleElement().satisfies(m -> {
                assertThat(m.hasDelta()).isTrue();
                assertThat(m.getDelta().getBaseVersion()).isEqualTo(held.getVersion());
            });
        }
    }

    /**
     * A stolen west SVID that claims to hold east's version (versions are content hashes, but one may leak): a delta
     * from east's snapshot would name east's services as removed. It gets its own snapshot whole.
     */
    @Test
    void aSubscriberClaimingAnotherMembersVersionGetsItsOwnSnapshotWhole() throws Exception {
        report("east", "vm-1", List.of(workload("ledger", "10.0.1.5", 8080, true)));
        ConfigSnapshot east;
        try (TestSubscriber s = TestSubscriber.takingDeltas(gateway("east", "gw"), "", null, x -> false)) {
            east = s.awaitSnapshot(x -> x.getServicesCount() > 0, WAIT);
        }
        try (TestSubscriber thief = TestSubscriber.takingDeltas(gateway("west", "gw"), east.getVersion(), east,
                x -> false)) {
            ConfigSnapshot own = thief.awaitSnapshot(x -> true, WAIT);
            assertThat(thief.messages()).singleElement().satisfies(m -> assertThat(m.hasDelta()).isFalse());
            assertThat(own.getMember()).isEqualTo("west");
            assertThat(thief.messages().get(0).toString()).doesNotContain("ledger");
        }
    }

    @Test
    void aReconnectHoldingARememberedVersionGetsADeltaAndOneThatCannotApplyItGetsTheWholeSnapshot()
            throws Exception {
        report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true)));
        federation.admin().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .addToMembers("west").build());
        ConfigSnapshot held;
        try (TestSubscriber s = TestSubscriber.takingDeltas(gateway("west", "gw"), "", null, x -> false)) {
            held = s.awaitSnapshot(x -> x.getServicesCount() > 0, WAIT);
        }
        report("east", "vm-1", List.of(workload("hello", "10.0.1.5", 8080, true),
                workload("hello", "10.0.1.6", 8080, true)));
        try (TestSubscriber back = TestSubscriber.takingDeltas(gateway("west", "gw"), held.getVersion(), held,
                x -> false)) {
            ConfigSnapshot now = back.awaitSnapshot(x -> !x.getVersion().equals(held.getVersion()), WAIT);
            assertThat(back.messages()).singleElement().satisfies(m -> {
                assertThat(m.hasDelta()).isTrue();
                assertThat(m.getDelta().getBaseVersion()).isEqualTo(held.getVersion());
            });
            assertThat(now.getServices(0).getNetworks(0).getHealthyEndpoints()).isEqualTo(2);
            assertThat(back.nacks()).isEmpty();
        }
        // It says it holds that version but has lost it: the delta cannot be applied, and the whole one follows.
        try (TestSubscriber lost = TestSubscriber.takingDeltas(gateway("west", "gw"), held.getVersion(), null,
                x -> false)) {
            ConfigSnapshot now = lost.awaitSnapshot(x -> !x.getVersion().equals(held.getVersion()), WAIT);
            assertThat(lost.nacks()).singleElement().asString().contains("this subscriber holds version none");
            assertThat(lost.messages()).hasSize(2);
            assertThat(lost.messages().get(1).hasDelta()).isFalse();
            assertThat(now.getServices(0).getNetworks(0).getHealthyEndpoints()).isEqualTo(2);
        }
    }
}
