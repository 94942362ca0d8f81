package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.concurrent.FakeScheduler;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.client.StateDir;
import io.meshfed.controller.testing.TestFederation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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

    private static StallingController standIn(TestFederation federation, StateDir state,
            IntFunction<StallingController.Answer> readiness) throws Exception {
        return StallingController.forGateway(federation, state, readiness, s -> s, 0);
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
