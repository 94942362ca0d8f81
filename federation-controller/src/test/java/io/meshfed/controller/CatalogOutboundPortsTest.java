package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CatalogService;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin's catalog names the importing network of each outbound listen port (ports are allocated per network, so
 * one service port may have a different listen port in each), and each is the port that network's gateways open.
 */
class CatalogOutboundPortsTest {
    @TempDir
    Path dir;

    @Test
    void eachOutboundPortNamesItsImportingNetworkAndMatchesItsGatewaysListener() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            var admin = federation.admin();
            String[] names = {"east", "west", "north"};
            for (int i = 0; i < names.length; i++) {
                String n = names[i];
                admin.createNetwork(CreateNetworkRequest.newBuilder().setName(n)
                        .setGatewayAddress("127.0." + (i + 1) + ".1:15443").build());
                admin.addMember(AddMemberRequest.newBuilder().setName(n).setType("vm").setNetwork(n).build());
            }
            federation.clusterEndpoints("east", WorkloadReport.newBuilder().addWorkloads(WorkloadInstance.newBuilder()
                    .setService("hello").setNamespace("demo").setAddress("10.1.0.1").setPort(8080).setHealthy(true))
                    .build());
            admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                    .addToMembers("north").build());

            CatalogService hello = admin.listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
                    .filter(s -> s.getName().equals("hello")).findFirst().orElseThrow();
            Map<String, Integer> byNetwork = hello.getOutboundPortsList().stream().collect(Collectors.toMap(
                    p -> p.getNetwork(), p -> p.getListenPort()));
            assertThat(byNetwork).as("the importing networks only, not east that serves it")
                    .containsOnlyKeys("west", "north");
            assertThat(hello.getOutboundPortsList()).allSatisfy(p -> assertThat(p.getServicePort()).isEqualTo(8080));

            try (TestSubscriber west = new TestSubscriber(federation.channel(
                    federation.memberSvid("west.acme.mesh", "/meshfed/gateway/gw")))) {
                ConfigSnapshot s = west.awaitSnapshot(x -> x.getOutboundCount() == 1, Duration.ofSeconds(20));
                OutboundListener l = s.getOutbound(0);
                assertThat(l.getListenPort()).isEqualTo(byNetwork.get("west"));
            }
        }
    }
}
