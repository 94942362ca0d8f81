package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CallerPolicy;
import io.meshfed.api.v1.CallerPolicyRequest;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.DeleteCallerPolicyRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.client.StateDir;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.dataplane.testing.EchoBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A caller policy reaches a running gateway on its config stream, with no restart: an admin's deny for the west
 * gateway's identity closes the connection it already carries into east and refuses the next one (counted on east's
 * /metrics); deleting the policy lets it in again.
 */
class LiveCallerPolicyTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aDenyPolicyClosesAnOpenConnectionLiveAndDeletingItLetsTheCallerBackIn() throws Exception {
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"));
                EchoBackend backend = new EchoBackend()) {
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
                federation.clusterEndpoints("east", WorkloadReport.newBuilder().addWorkloads(
                        WorkloadInstance.newBuilder().setService("hello").setNamespace("demo").setAddress("127.0.0.1")
                                .setPort(backend.port()).setHealthy(true)).build());
                admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                        .build());
                await().atMost(WAIT).until(() -> !westGw.gateway().outboundPorts().isEmpty());
                int port = westGw.gateway().outboundPorts().iterator().next();

                try (Socket open = new Socket("127.0.2.1", port)) {
                    assertThat(EchoBackend.exchange(open, "before the policy")).isEqualTo("before the policy");
                    CallerPolicy deny = admin.putCallerPolicy(CallerPolicyRequest.newBuilder().setService("hello")
                            .setNamespace("demo").setEffect(CallerRule.Effect.DENY)
                            .setFrom("spiffe://west.acme.mesh/meshfed/gateway/*").build());
                    open.setSoTimeout((int) WAIT.toMillis());
                    assertThat(open.getInputStream().read()).as("closed by the pushed policy").isEqualTo(-1);

                    int reached = backend.connections().get();
                    try (Socket refused = new Socket("127.0.2.1", port)) {
                        refused.setSoTimeout(10_000);
                        refused.getOutputStream().write("denied".getBytes(StandardCharsets.UTF_8));
                        assertThat(refused.getInputStream().read()).isEqualTo(-1);
                    }
                    assertThat(backend.connections()).as("the refused caller never reached the workload")
                            .hasValue(reached);
                    assertThat(http(eastGw, "/metrics"))
                            .contains("meshfed_authz_decisions_total{decision=\"deny\",reason=\"policy_deny\"} 2.0")
                            .contains("meshfed_authz_decisions_total{decision=\"allow\",reason=\"export\"} 1.0")
                            .contains("meshfed_gateway_policy_closed_total 1.0");

                    admin.deleteCallerPolicy(DeleteCallerPolicyRequest.newBuilder().setId(deny.getId()).build());
                    await().atMost(WAIT).until(() -> eastGw.gateway().proxy().routes().inbound().values().stream()
                            .allMatch(t -> t.callers().isEmpty()));
                    await().atMost(WAIT).untilAsserted(() -> {
                        try (Socket again = new Socket("127.0.2.1", port)) {
                            assertThat(EchoBackend.exchange(again, "after the delete")).isEqualTo("after the delete");
                        }
                    });
                }
            }
        }
    }

    /** "STATUS BODY" of a plain HTTP GET to the node's health and metrics listener. */
    private static String http(GatewayNode node, String path) throws Exception {
        InetSocketAddress a = node.httpAddress().orElseThrow();
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + a.getHostString() + ":" + a.getPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.body();
    }
}
