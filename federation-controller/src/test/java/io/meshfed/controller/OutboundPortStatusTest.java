package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ControllerStatus;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.catalog.PortRange;
import io.meshfed.controller.testing.TestFederation;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed status} (the admin API's Status, on gRPC and JSON) shows the outbound port range and, per network,
 * how many imported service ports got no listen port, naming the network; a network with room shows nothing.
 */
class OutboundPortStatusTest {
    @TempDir
    Path dir;

    private static WorkloadReport services(int from, int to) {
        return WorkloadReport.newBuilder().addAllWorkloads(IntStream.range(from, to).mapToObj(i -> WorkloadInstance
                .newBuilder().setService("svc-" + i).setNamespace("demo").setAddress("10.0.0." + (i + 1))
                .setPort(8080).setHealthy(true).build()).toList()).build();
    }

    @Test
    void anExhaustedRangeIsReportedNamingTheNetworkAndHowManyGotNoPort() throws Exception {
        try (TestFederation federation = TestFederation.start(dir,
                c -> c.withMemberPortQuota(3).withOutboundPorts(new PortRange(20000, 20002)))) {
            var admin = federation.admin();
            for (String n : new String[] {"east", "west", "north"}) {
                admin.createNetwork(CreateNetworkRequest.newBuilder().setName(n).build());
                admin.addMember(AddMemberRequest.newBuilder().setName(n).setType("vm").setNetwork(n).build());
            }
            federation.clusterEndpoints("east", services(0, 3)); // each member within its quota of 3
            federation.clusterEndpoints("north", services(3, 5));
            for (int i = 0; i < 5; i++) {
                admin.export(ExportRequest.newBuilder().setService("svc-" + i).setNamespace("demo")
                        .addToMembers("west").build()); // west imports five, in a range of three
            }

            ControllerStatus status = admin.status(ListRequest.getDefaultInstance());

            assertThat(status.getOutboundPortRange()).isEqualTo("20000-20002");
            assertThat(status.getOutboundPortShortfallsList()).singleElement().satisfies(s -> {
                assertThat(s.getNetwork()).isEqualTo("west");
                assertThat(s.getExhausted()).isEqualTo(2);
                assertThat(s.getOverQuota()).isZero();
                assertThat(s.getFirstList()).containsExactly("8080.svc-3.demo", "8080.svc-4.demo");
            });
            String json = Http.post(federation, "/v1/admin/Status", "{}", federation.adminSvid()).body();
            assertThat(json).contains("outboundPortShortfalls").contains("west").contains("8080.svc-4.demo");

            // Two exports withdrawn: everything west imports fits, and the status says so.
            for (int i = 3; i < 5; i++) {
                admin.unexport(ExportRequest.newBuilder().setService("svc-" + i).setNamespace("demo")
                        .addToMembers("west").build());
            }
            assertThat(admin.status(ListRequest.getDefaultInstance()).getOutboundPortShortfallsList()).isEmpty();
        }
    }
}
