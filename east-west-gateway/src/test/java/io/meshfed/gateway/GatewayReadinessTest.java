package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.meshfed.api.concurrent.FakeScheduler;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ControllerInfo;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.Role;
import io.meshfed.client.Joiner;
import io.meshfed.client.StateDir;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.TrustDomain;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway reports itself ready after its first config without holding up the config stream: a controller that
 * never answers the report still gets the snapshot's ACK at once, and a refused report is retried.
 */
class GatewayReadinessTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /**
     * A gateway of member east joined to a real controller, whose state directory then names a stand-in controller
     * (same identity) that answers readiness reports as {@code readiness} says; returns the stand-in.
     */
    private StallingController standIn(TestFederation federation, StateDir state, IntFunction<StallingController.Answer>
            readiness) throws Exception {
        var admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
        Joiner.join("127.0.0.1:" + federation.address().getPort(), federation.token("east", Role.ROLE_GATEWAY),
                new Joiner.Identity(Role.ROLE_GATEWAY, "east", "east-gw", null, List.of("127.0.1.1:15443")), state,
                Clock.systemUTC());
        ConfigSnapshot snapshot;
        try (TestSubscriber real = new TestSubscriber(federation.channel(state.svid()))) {
            snapshot = real.awaitSnapshot(s -> true, WAIT); // what the real controller sends this gateway
        }
        BundleSet bundles = BundleSet.of(1, List.of(federation.identity.bundle(TestFederation.FEDERATION_TD),
                federation.identity.bundle(TrustDomain.parse("east.acme.mesh"))));
        StallingController standIn = new StallingController(federation.identity.issueControllerSvid(Duration.ofHours(1)),
                bundles, snapshot.toBuilder().clearNonce().clearSubscriber().build(), readiness);
        ControllerInfo info = state.controller().toBuilder().clearAddresses().addAddresses(standIn.address()).build();
        Files.writeString(state.path().resolve("controller.json"), JsonFormat.printer().print(info),
                StandardCharsets.UTF_8);
        return standIn;
    }

    private static GatewayNode.Options options(StateDir state) throws Exception {
        return new GatewayNode.Options("127.0.0.1:1", null, "east", "east-gw", state,
                new InetSocketAddress("127.0.1.1", 0), null, InetAddress.getByName("127.0.1.1"), null, null);
    }

    private static GatewayNode.Options withTunnel(StateDir state) throws Exception {
        return new GatewayNode.Options("127.0.0.1:1", null, "east", "east-gw", state,
                new InetSocketAddress("127.0.1.1", 0), null, InetAddress.getByName("127.0.1.1"), null, null,
                new InetSocketAddress("127.0.1.1", 0));
    }

    @Test
    void aReadinessReportTheControllerNeverAnswersDoesNotDelayTheAck() throws Exception {
        StateDir state = new StateDir(dir.resolve("gw"));
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"));
                StallingController controller = standIn(federation, state, n -> n == 1
                        ? StallingController.Answer.STALL : StallingController.Answer.OK);
                GatewayNode gateway = GatewayNode.start(withTunnel(state), Clock.systemUTC())) {
            // The report is sent (and stalls: its deadline is 10 s)...
            ReadinessReport report = controller.readinessCalls.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(report).isNotNull();
            assertThat(report.getReady()).isTrue();
            assertThat(report.getAddressesList()).containsExactly(gateway.advertised());
            // The tunnel listener bound port 0: the report names the port it got.
            assertThat(report.getTunnelAddress()).isEqualTo("127.0.1.1:"
                    + gateway.tunnelAddress().orElseThrow().getPort());
            // ...and the snapshot is ACKed well before that deadline could have ended the call.
            assertThat(controller.acked.get(ReadinessReporter.DEADLINE.toSeconds() / 2, TimeUnit.SECONDS))
                    .isEqualTo(gateway.subscriber().version());
            assertThat(gateway.readiness().reported()).as("still waiting for the controller").isFalse();
        }
    }

    @Test
    void aRefusedReadinessReportIsRetriedAfterItsBackoffAndThenStops() throws Exception {
        StateDir state = new StateDir(dir.resolve("gw"));
        FakeScheduler timer = new FakeScheduler();
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"));
                StallingController controller = standIn(federation, state, n -> n == 1
                        ? StallingController.Answer.UNAVAILABLE : StallingController.Answer.OK);
                GatewayNode gateway = GatewayNode.start(options(state), Clock.systemUTC(), timer)) {
            assertThat(controller.readinessCalls.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isNotNull();
            assertThat(controller.acked.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isNotEmpty();
            // Refused: one retry waits on the timer, after the first backoff.
            await().atMost(WAIT).until(timer::pendingDelays, d -> d.equals(List.of(ReadinessReporter.FIRST_RETRY)));
            assertThat(controller.readinessCalls).isEmpty();

            timer.forwardTime(ReadinessReporter.FIRST_RETRY);
            ReadinessReport retried = controller.readinessCalls.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(retried).isNotNull();
            assertThat(retried.getReady()).isTrue();
            assertThat(retried.getAddressesList()).containsExactly(gateway.advertised());
            assertThat(retried.getTunnelAddress()).as("no tunnel listener").isEmpty();
            // Answered: nothing more is scheduled or sent, however far time moves.
            await().atMost(WAIT).until(gateway.readiness()::reported);
            timer.forwardTime(ReadinessReporter.MAX_RETRY.multipliedBy(4));
            assertThat(timer.pendingTasks()).isZero();
            assertThat(controller.readinessCalls).isEmpty();
        }
    }
}
