package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 subscribers, each over its own mTLS connection with its own SVID, and 5,000 endpoints: every subscriber gets
 * its snapshot and ACKs it, and a later change reaches and is ACKed by all of them, without an error. Correctness at
 * scale only; how fast is measured in bench/.
 */
class ScaleTest {
    private static final int MEMBERS = 10;
    private static final int SUBSCRIBERS = 1000;
    private static final int AGENTS = 50;
    private static final int ENDPOINTS_PER_AGENT = 100;

    @TempDir
    Path dir;

    @Test
    void thousandSubscribersAndFiveThousandEndpoints() throws Exception {
        // The reporters never open a config stream: a grace period longer than the test keeps their workloads.
        try (TestFederation federation = TestFederation.start(dir, Duration.ofMinutes(30))) {
            var admin = federation.admin();
            federation.addNetworksAndMembers(2, MEMBERS);
            for (int a = 0; a < AGENTS; a++) {
                List<WorkloadInstance> workloads = new ArrayList<>();
                for (int e = 0; e < ENDPOINTS_PER_AGENT; e++) {
                    workloads.add(WorkloadInstance.newBuilder().setService("svc" + (a * 10 + e % 10))
                            .setNamespace("load").setAddress("10." + a + "." + (e / 250) + "." + (e % 250))
                            .setPort(8080).setHealthy(true).setInbound("10." + a + ".255.1:15006").build());
                }
                ManagedChannel agent = federation.channel(federation.memberSvid("m" + (a % MEMBERS) + ".acme.mesh",
                        "/ns/load/vm/vm-" + a));
                RegistrationServiceGrpc.newBlockingStub(agent).reportWorkloads(
                        WorkloadReport.newBuilder().addAllWorkloads(workloads).build());
                agent.shutdownNow();
            }
            for (int s = 0; s < AGENTS * 10; s++) {
                admin.export(ExportRequest.newBuilder().setService("svc" + s).setNamespace("load").setToAll(true).build());
            }
            assertThat(admin.listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                    .mapToInt(s -> s.getNetworksList().stream().mapToInt(n -> n.getEndpointsCount()).sum()).sum())
                    .isEqualTo(AGENTS * ENDPOINTS_PER_AGENT);

            List<TestSubscriber> subscribers = new ArrayList<>();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                subscribers.add(new TestSubscriber(federation.channel(federation.memberSvid(
                        "m" + (i % MEMBERS) + ".acme.mesh", "/meshfed/gateway/gw-" + i))));
            }
            for (TestSubscriber s : subscribers) {
                ConfigSnapshot snapshot = s.awaitSnapshot(x -> x.getServicesCount() == AGENTS * 10,
                        Duration.ofSeconds(120));
                int local = snapshot.getServicesList().stream().flatMap(x -> x.getNetworksList().stream())
                        .filter(n -> n.getLocal()).mapToInt(n -> n.getEndpointsCount()).sum();
                assertThat(local).as("half the endpoints are in each network").isEqualTo(2500);
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> allAcked(federation, null));

            // One endpoint goes unhealthy: every subscriber gets and ACKs the change.
            ManagedChannel agent0 = federation.channel(federation.memberSvid("m0.acme.mesh", "/ns/load/vm/vm-0"));
            List<WorkloadInstance> changed = new ArrayList<>();
            for (int e = 0; e < ENDPOINTS_PER_AGENT; e++) {
                changed.add(WorkloadInstance.newBuilder().setService("svc" + (e % 10)).setNamespace("load")
                        .setAddress("10.0." + (e / 250) + "." + (e % 250)).setPort(8080).setHealthy(e != 0)
                        .setInbound("10.0.255.1:15006").build());
            }
            RegistrationServiceGrpc.newBlockingStub(agent0).reportWorkloads(
                    WorkloadReport.newBuilder().addAllWorkloads(changed).build());
            for (TestSubscriber s : subscribers) {
                s.awaitSnapshot(x -> x.getServicesList().stream().filter(v -> v.getName().equals("svc0"))
                        .flatMap(v -> v.getNetworksList().stream()).mapToInt(n -> n.getHealthyEndpoints()).sum() == 9,
                        Duration.ofSeconds(120));
            }
            await().atMost(Duration.ofSeconds(120)).until(() -> allAcked(federation, null));
            List<SubscriberStatus> status = admin.status(ListRequest.getDefaultInstance()).getSubscribersList();
            assertThat(status).hasSize(SUBSCRIBERS);
            assertThat(status).allSatisfy(s -> {
                assertThat(s.getLastError()).isEmpty();
                assertThat(s.getLagMs()).isZero();
            });
            assertThat(subscribers).allSatisfy(s -> assertThat(s.error()).isNull());
            subscribers.forEach(TestSubscriber::close);
        }
    }

    private static boolean allAcked(TestFederation federation, Void unused) throws Exception {
        List<SubscriberStatus> status = federation.admin().status(ListRequest.getDefaultInstance()).getSubscribersList();
        return status.size() == SUBSCRIBERS && status.stream()
                .allMatch(s -> !s.getSentVersion().isEmpty() && s.getSentVersion().equals(s.getAckedVersion()));
    }
}
