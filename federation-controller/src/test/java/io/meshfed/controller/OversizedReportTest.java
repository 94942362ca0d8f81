package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.SpiffeId;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12 review: a stolen gateway SVID of a member without CIDRs (the default) reports readiness at one address
 * whose host is 2.5 MB long. Stored, it would be copied into every snapshot that names the network's gateway and make
 * east's config undeliverable (over gRPC's 4 MiB limit). The controller refuses requests over 1 MiB, and any address
 * whose host is longer than a DNS name, so east keeps its config.
 */
class OversizedReportTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void aGatewaysReadinessCannotMakeOtherMembersSnapshotsUndeliverable() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            var agent = federation.join(federation.agentToken("west", "demo", "hello.demo"), Role.ROLE_AGENT, "west",
                    "vm-1", SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/vm/vm-1"));
            RegistrationServiceGrpc.newBlockingStub(federation.channel(agent.svid())).reportWorkloads(WorkloadReport
                    .newBuilder().addWorkloads(WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                            .setAddress("127.0.0.1").setPort(8080).setHealthy(true).setInbound("127.0.0.1:15006"))
                    .build());
            admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("east")
                    .build());
            var gw = federation.join(federation.token("west", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "west", "gw",
                    SpiffeId.parse("spiffe://west.acme.mesh/meshfed/gateway/gw"));
            var stolen = RegistrationServiceGrpc.newBlockingStub(federation.channel(gw.svid()));
            stolen.reportReadiness(ReadinessReport.newBuilder().setReady(true).addAddresses("127.0.2.1:15443").build());

            try (TestSubscriber east = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                    "/meshfed/gateway/gw")))) {
                east.awaitSnapshot(s -> hasWestRoute(s), WAIT);
            }

            // The attack: one readiness report, one address, a 2.5 MB host.
            String huge = "a".repeat(2_500_000) + ":15443";
            StatusRuntimeException refused = null;
            try {
                stolen.reportReadiness(ReadinessReport.newBuilder().setReady(true).addAddresses(huge).build());
            } catch (StatusRuntimeException e) {
                refused = e;
            }

            try (TestSubscriber east = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                    "/ns/demo/vm/vm-9")))) {
                ConfigSnapshot s = null;
                try {
                    s = east.awaitSnapshot(x -> true, Duration.ofSeconds(10));
                } catch (AssertionError e) {
                    // fall through to the assertion below, which names the stream's error
                }
                assertThat(s).as("east still receives its config after west's gateway reported a %d-char address"
                        + " (refused: %s; east's stream error: %s)", huge.length(), refused, east.error())
                        .isNotNull();
            }
            assertThat(refused).as("an address longer than a DNS name (253) is refused").isNotNull();
            StatusRuntimeException tooLong = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> stolen.reportReadiness(ReadinessReport.newBuilder().setReady(true)
                            .addAddresses("a".repeat(254) + ":15443").build()));
            assertThat(tooLong.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
            assertThat(tooLong.getStatus().getDescription()).contains("a host of at most 253 characters");
        }
    }

    private static boolean hasWestRoute(ConfigSnapshot s) {
        return s.getServicesList().stream().filter(x -> x.getName().equals("hello"))
                .flatMap(x -> x.getNetworksList().stream()).anyMatch(n -> n.getNetwork().equals("west"));
    }
}
