package io.meshfed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeId;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The subscriber side against a real controller: join once, run from the state directory, survive a restart. */
class ControlClientTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private TestFederation federation;
    private String address;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                .build());
        address = "127.0.0.1:" + federation.address().getPort();
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private StateDir joinGateway(String name) throws Exception {
        StateDir state = new StateDir(dir.resolve(name));
        SpiffeId id = Joiner.join(address, federation.token("east", Role.ROLE_GATEWAY),
                new Joiner.Identity(Role.ROLE_GATEWAY, "east", name, null, List.of("127.0.1.1:15443")), state,
                Clock.systemUTC());
        assertThat(id.toString()).isEqualTo("spiffe://east.acme.mesh/meshfed/gateway/" + name);
        return state;
    }

    private SubscriberStatus statusOf(String id) throws Exception {
        return federation.admin().status(ListRequest.getDefaultInstance()).getSubscribersList().stream()
                .filter(s -> s.getSpiffeId().equals(id)).findFirst().orElse(SubscriberStatus.getDefaultInstance());
    }

    @Test
    void joinWritesAnOwnerOnlyIdentityAndATokenWorksOnce() throws Exception {
        String token = federation.token("east", Role.ROLE_GATEWAY);
        StateDir state = new StateDir(dir.resolve("gw"));
        Joiner.join(address, token, new Joiner.Identity(Role.ROLE_GATEWAY, "east", "gw", null, List.of()), state,
                Clock.systemUTC());
        assertThat(state.hasIdentity()).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.path()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.path().resolve(StateDir.KEY))))
                .isEqualTo("rw-------");
        assertThat(state.controller().getSpiffeId()).isEqualTo("spiffe://acme.mesh/meshfed/controller");

        assertThatThrownBy(() -> Joiner.join(address, token,
                new Joiner.Identity(Role.ROLE_GATEWAY, "east", "gw-2", null, List.of()), new StateDir(dir.resolve("gw2")),
                Clock.systemUTC()))
                .isInstanceOf(Joiner.JoinFailedException.class).hasMessageContaining("token_used");
        assertThatThrownBy(() -> Joiner.join(address, token.substring(0, token.lastIndexOf('.') + 1) + "B".repeat(43),
                new Joiner.Identity(Role.ROLE_GATEWAY, "east", "gw-3", null, List.of()), new StateDir(dir.resolve("gw3")),
                Clock.systemUTC()))
                .isInstanceOf(Joiner.JoinFailedException.class).hasMessageContaining("does not match the pin");
    }

    @Test
    void aSubscriberAppliesAcksCachesAndSurvivesAControllerRestart() throws Exception {
        StateDir state = joinGateway("gw");
        List<ConfigSnapshot> applied = new CopyOnWriteArrayList<>();
        String id = "spiffe://east.acme.mesh/meshfed/gateway/gw";
        try (NodeSession session = NodeSession.open(state, Clock.systemUTC());
                ConfigSubscriber subscriber = ConfigSubscriber.start(session, applied::add)) {
            await().atMost(WAIT).until(() -> !subscriber.version().isEmpty());
            await().atMost(WAIT).until(() -> statusOf(id).getAckedVersion().equals(subscriber.version()));
            assertThat(state.snapshot()).map(ConfigSnapshot::getVersion).contains(subscriber.version());

            String before = subscriber.version();
            federation.controller().close(); // the controller goes away: the node keeps its config
            await().atMost(WAIT).until(() -> !subscriber.connected());
            assertThat(subscriber.version()).isEqualTo(before);

            // A node that starts while the controller is down works from its cache.
            List<ConfigSnapshot> fromCache = new CopyOnWriteArrayList<>();
            try (NodeSession second = NodeSession.open(state, Clock.systemUTC());
                    ConfigSubscriber cached = ConfigSubscriber.start(second, fromCache::add)) {
                assertThat(cached.version()).isEqualTo(before);
                assertThat(fromCache).hasSize(1);
            }

            federation.restart();
            federation.admin().export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").setToAll(true)
                    .build());
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east")
                    .setGatewayAddress("127.0.1.1:15443").build());
            await().atMost(Duration.ofSeconds(60)).until(() -> subscriber.connected()
                    && !subscriber.version().equals(before));
            await().atMost(WAIT).until(() -> statusOf(id).getAckedVersion().equals(subscriber.version()));
            assertThat(applied.get(applied.size() - 1).getGatewaysList()).singleElement()
                    .satisfies(g -> assertThat(g.getAddress()).isEqualTo("127.0.1.1:15443"));
        }
    }

    @Test
    void aSubscriberTakesDeltasAndHoldsExactlyWhatAWholeSnapshotGives() throws Exception {
        StateDir state = joinGateway("gw");
        List<ConfigSnapshot> applied = new CopyOnWriteArrayList<>();
        String id = "spiffe://east.acme.mesh/meshfed/gateway/gw";
        try (NodeSession session = NodeSession.open(state, Clock.systemUTC());
                ConfigSubscriber subscriber = ConfigSubscriber.start(session, applied::add)) {
            await().atMost(WAIT).until(() -> statusOf(id).getAckedVersion().equals(subscriber.version())
                    && !subscriber.version().isEmpty());
            for (int n = 1; n <= 3; n++) {
                int i = n;
                String before = subscriber.version();
                federation.admin().export(ExportRequest.newBuilder().setService("hello-" + i).setNamespace("demo")
                        .setToAll(true).build());
                federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("net-" + i)
                        .setGatewayAddress("127.0.3." + i + ":15443").build());
                await().atMost(WAIT).until(() -> !subscriber.version().equals(before)
                        && statusOf(id).getAckedVersion().equals(subscriber.version())
                        && applied.get(applied.size() - 1).getGatewaysCount() == i);
            }
            SubscriberStatus status = statusOf(id);
            assertThat(status.getTakesDeltas()).isTrue();
            assertThat(status.getWholePushes()).as("the first push only").isEqualTo(1);
            assertThat(status.getDeltaPushes()).isPositive();
            assertThat(status.getLastError()).isEmpty();
            ConfigSnapshot last = applied.get(applied.size() - 1);
            assertThat(last.hasDelta()).as("the applier is handed whole snapshots").isFalse();
            assertThat(io.meshfed.api.config.ConfigVersion.of(last)).isEqualTo(last.getVersion())
                    .isEqualTo(subscriber.version());
            assertThat(state.snapshot()).map(ConfigSnapshot::hasDelta).contains(false);
            try (io.meshfed.controller.testing.TestSubscriber whole = new io.meshfed.controller.testing.TestSubscriber(
                    federation.channel(federation.memberSvid("east.acme.mesh", "/meshfed/gateway/other")))) {
                ConfigSnapshot reference = whole.awaitSnapshot(s -> s.getVersion().equals(last.getVersion()), WAIT);
                assertThat(last.toBuilder().clearNonce().clearSubscriber().build())
                        .isEqualTo(reference.toBuilder().clearNonce().clearSubscriber().build());
            }
        }
    }

    @Test
    void aSnapshotTheApplierRejectsIsNackedAndThePreviousOneStays() throws Exception {
        StateDir state = joinGateway("gw");
        String id = "spiffe://east.acme.mesh/meshfed/gateway/gw";
        try (NodeSession session = NodeSession.open(state, Clock.systemUTC());
                ConfigSubscriber subscriber = ConfigSubscriber.start(session, s -> {
                    if (s.getGatewaysCount() > 0) {
                        throw new IllegalArgumentException("cannot open listener for " + s.getGateways(0).getAddress());
                    }
                })) {
            await().atMost(WAIT).until(() -> !subscriber.version().isEmpty());
            String good = subscriber.version();
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east")
                    .setGatewayAddress("127.0.1.1:15443").build());
            await().atMost(WAIT).until(() -> !statusOf(id).getLastError().isEmpty());
            assertThat(statusOf(id).getLastError()).isEqualTo("cannot open listener for 127.0.1.1:15443");
            assertThat(statusOf(id).getAckedVersion()).isEqualTo(good);
            assertThat(subscriber.version()).isEqualTo(good);
            assertThat(state.snapshot()).map(ConfigSnapshot::getVersion).contains(good);
        }
    }

    @Test
    void renewalReplacesTheSvidOnDiskAndInUse() throws Exception {
        StateDir state = joinGateway("gw");
        try (NodeSession session = NodeSession.open(state, Clock.systemUTC())) {
            BigInteger before = session.credentials().svid().leaf().getSerialNumber();
            session.renewNow();
            BigInteger after = session.credentials().svid().leaf().getSerialNumber();
            assertThat(after).isNotEqualTo(before);
            assertThat(state.svid().leaf().getSerialNumber()).isEqualTo(after);
            session.renewNow(); // the channel keeps working with the renewed SVID
            assertThat(state.svid().leaf().getSerialNumber()).isNotEqualTo(after);
        }
    }

    @Test
    void aStateDirectoryWithoutIdentityIsAClearError() {
        assertThatThrownBy(() -> NodeSession.open(new StateDir(dir.resolve("empty")), Clock.systemUTC()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("holds no identity; join first");
    }
}
