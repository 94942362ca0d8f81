package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.client.StateDir;
import io.meshfed.controller.testing.TestFederation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two networks, each with a gateway that joined a real controller with a token: a plain client in west reaches
 * hello.demo in east once it is exported to west, through both gateways, and is refused again after unexport.
 */
class CrossNetworkTest {
    @TempDir
    Path dir;

    @Test
    void exportedServiceIsReachableAcrossNetworksAndUnexportStopsIt() throws Exception {
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"));
                EchoBackend backend = new EchoBackend()) {
            AtomicInteger backendConnections = backend.connections();
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            String controller = "127.0.0.1:" + federation.address().getPort();

            try (GatewayNode eastGw = GatewayNode.start(new GatewayNode.Options(controller,
                            federation.token("east", Role.ROLE_GATEWAY), "east", "east-gw",
                            new StateDir(dir.resolve("east-gw")), new InetSocketAddress("127.0.1.1", 0), null,
                            InetAddress.getByName("127.0.1.1"), new InetSocketAddress("127.0.1.1", 0), null),
                            Clock.systemUTC());
                    GatewayNode westGw = GatewayNode.start(new GatewayNode.Options(controller,
                            federation.token("west", Role.ROLE_GATEWAY), "west", "west-gw",
                            new StateDir(dir.resolve("west-gw")), new InetSocketAddress("127.0.2.1", 0), null,
                            InetAddress.getByName("127.0.2.1"), null, null), Clock.systemUTC())) {
                // Both listen on port 0: the address each reports once bound is what the other network dials.
                assertThat(eastGw.advertised()).isEqualTo("127.0.1.1:" + eastGw.inboundAddress().getPort());

                federation.clusterEndpoints("east", WorkloadReport.newBuilder().addWorkloads(
                        WorkloadInstance.newBuilder().setService("hello").setNamespace("demo").setAddress("127.0.0.1")
                                .setPort(backend.port()).setHealthy(true)).build());
                admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                        .build());

                await().atMost(Duration.ofSeconds(30)).until(() -> !westGw.gateway().outboundPorts().isEmpty());
                int port = westGw.gateway().outboundPorts().iterator().next();
                assertThat(port).isBetween(20000, 32767);
                try (Socket s = new Socket("127.0.2.1", port)) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("hello from west".getBytes(StandardCharsets.UTF_8));
                    assertThat(new String(s.getInputStream().readNBytes(15), StandardCharsets.UTF_8))
                            .isEqualTo("hello from west");
                }
                assertThat(backendConnections).hasValue(1);
                assertThat(http(eastGw, "/healthz")).isEqualTo("200 ok\n");
                assertThat(http(eastGw, "/readyz")).startsWith("200 ready, config ");
                String metrics = http(eastGw, "/metrics");
                assertThat(metrics).contains("meshfed_gateway_inbound_routed_total 1.0")
                        .contains("meshfed_gateway_refusals_total{reason=\"unauthorized\"} 0.0")
                        .contains("meshfed_gateway_controller_connected 1.0")
                        .contains("meshfed_gateway_received_bytes_total 15.0")
                        .contains("meshfed_gateway_sent_bytes_total 15.0")
                        .contains("meshfed_gateway_config_info{version=\"" + eastGw.gateway().version() + "\"} 1");
                assertThat(westGw.httpAddress()).isEmpty();
                assertThat(admin.status(ListRequest.getDefaultInstance()).getSubscribersList())
                        .extracting(x -> x.getSpiffeId()).contains("spiffe://east.acme.mesh/meshfed/gateway/east-gw",
                                "spiffe://west.acme.mesh/meshfed/gateway/west-gw");

                admin.unexport(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                        .build());
                await().atMost(Duration.ofSeconds(30)).until(() -> westGw.gateway().outboundPorts().isEmpty());
                await().atMost(Duration.ofSeconds(30)).until(() -> !eastGw.gateway().allows("hello", "demo",
                        "west.acme.mesh"));
                assertThat(backendConnections).hasValue(1);
            }
        }
    }

    /** "STATUS BODY" of a plain HTTP GET to the node's health and metrics listener. */
    private static String http(GatewayNode node, String path) throws Exception {
        InetSocketAddress a = node.httpAddress().orElseThrow();
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + a.getHostString() + ":" + a.getPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }
}
