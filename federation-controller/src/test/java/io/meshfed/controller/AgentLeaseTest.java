package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM that dies cannot report its services down: the controller withdraws them when its agent stays away. The
 * controller's time is fake: the grace period passes when the test forwards it, not by waiting.
 */
class AgentLeaseTest {
    private static final Duration GRACE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static boolean healthy(TestFederation f) throws Exception {
        return f.admin().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                .flatMap(s -> s.getNetworksList().stream()).flatMap(n -> n.getEndpointsList().stream())
                .anyMatch(e -> e.getHealthy());
    }

    @Test
    void anAgentGoneForTheGracePeriodHasItsWorkloadsWithdrawnAndARepeatedReportWritesNothing() throws Exception {
        try (TestFederation federation = TestFederation.withFakeTime(dir, GRACE)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            ManagedChannel agent = federation.channel(federation.memberSvid("east.acme.mesh", "/ns/demo/vm/vm-1"));
            WorkloadReport report = WorkloadReport.newBuilder().addWorkloads(WorkloadInstance.newBuilder()
                    .setService("hello").setNamespace("demo").setAddress("10.0.1.5").setPort(8080).setHealthy(true)
                    .setInbound("10.0.1.5:15006")).build();
            var registration = RegistrationServiceGrpc.newBlockingStub(agent);
            long first = registration.reportWorkloads(report).getRevision();
            assertThat(registration.reportWorkloads(report).getRevision()).isEqualTo(first);
            String id = "spiffe://east.acme.mesh/ns/demo/vm/vm-1";
            var leases = federation.controller().streams().agentLeases();
            await().atMost(Duration.ofSeconds(10)).until(() -> leases.running().contains(id)); // reported, no stream

            TestSubscriber stream = new TestSubscriber(agent);
            await().atMost(Duration.ofSeconds(10)).until(() -> stream.latest() != null);
            federation.forwardTime(GRACE.multipliedBy(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> !leases.running().contains(id)); // the check ran
            assertThat(healthy(federation)).as("connected: kept").isTrue();
            stream.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> leases.running().contains(id)); // stream gone
            federation.forwardTime(GRACE.minusSeconds(1));
            assertThat(leases.running()).as("within the grace period").contains(id);
            assertThat(healthy(federation)).as("within the grace period: kept").isTrue();
            federation.forwardTime(Duration.ofSeconds(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> !healthy(federation));

            // Reporting again (as the agent does on its next stream) brings it back.
            registration.reportWorkloads(report);
            assertThat(healthy(federation)).isTrue();

            // A controller restart gives every agent the grace period to come back; this one does not.
            federation.restart();
            var restarted = federation.controller().streams().agentLeases();
            assertThat(restarted.running()).contains(id);
            assertThat(healthy(federation)).as("restarted: the grace period runs").isTrue();
            federation.forwardTime(GRACE);
            await().atMost(Duration.ofSeconds(10)).until(() -> !healthy(federation));
        }
    }
}
