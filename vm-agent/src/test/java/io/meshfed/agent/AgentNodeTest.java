package io.meshfed.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.client.Joiner;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.dataplane.ProxySettings;
import io.meshfed.dataplane.testing.EchoBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two agents in one network against a real controller: vm-1 fronts an echo workload, vm-2 imports it on a local
 * port and reaches it directly over mTLS with vm-1's identity checked. A failing health check withdraws the
 * service; a restarted agent needs no token; a token works once.
 */
class AgentNodeTest {
    @TempDir
    Path dir;

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        }
    }

    private AgentConfig config(String name, String body) throws IOException {
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, "member: east\nname: " + name + "\nnamespace: demo\nstateDir: " + dir.resolve(name)
                + "\nhealthCheck:\n  interval: 200ms\n  timeout: 500ms\n" + body);
        return AgentConfig.load(f);
    }

    private static void join(TestFederation federation, AgentConfig c, String token) throws Exception {
        Joiner.join("127.0.0.1:" + federation.address().getPort(), token, new Joiner.Identity(Role.ROLE_AGENT,
                c.member(), c.name(), c.namespace(), java.util.List.of()), new io.meshfed.client.StateDir(c.stateDir()),
                Clock.systemUTC());
    }

    @Test
    void anImportedServiceIsReachedOverMutualTlsAndWithdrawnWhenItsCheckFails() throws Exception {
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"));
                EchoBackend backend = new EchoBackend()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            AgentConfig server = config("vm-1", "address: 127.0.1.2\ninbound:\n  listen: 127.0.1.2:0\n"
                    + "http:\n  listen: 127.0.1.2:0\nservices:\n  - name: hello\n    weight: 7\n    port: "
                    + backend.port() + "\n");
            int importPort = freePort("127.0.1.3");
            AgentConfig client = config("vm-2", "address: 127.0.1.3\ninbound:\n  listen: 127.0.1.3:0\n"
                    + "http:\n  listen: 127.0.1.3:0\nimports:\n  - service: hello\n    port: " + backend.port()
                    + "\n    listen: 127.0.1.3:" + importPort + "\n");
            String token = federation.agentToken("east", "demo", "hello.demo");
            join(federation, server, token);
            assertThatThrownBy(() -> join(federation, client, token)).hasMessageContaining("already used");
            join(federation, client, federation.agentToken("east", "demo", "hello.demo"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(server.stateDir())))
                    .isEqualTo("rwx------");

            AgentNode vm1 = AgentNode.start(server, ProxySettings.defaults(), Clock.systemUTC());
            try (AgentNode vm2 = AgentNode.start(client, ProxySettings.defaults(), Clock.systemUTC())) {
                assertThat(vm1.id()).isEqualTo("spiffe://east.acme.mesh/ns/demo/vm/vm-1");
                await().atMost(Duration.ofSeconds(30)).until(() -> vm2.proxy().routes().outbound().values().stream()
                        .anyMatch(t -> t.hasUpstreams()));
                try (Socket s = new Socket("127.0.1.3", importPort)) {
                    assertThat(EchoBackend.exchange(s, "vm-2 to vm-1")).isEqualTo("vm-2 to vm-1");
                }
                assertThat(vm1.proxy().stats().inboundRouted()).isEqualTo(1);
                // vm-1's weight from its agent.yaml reached vm-2's balancer through the controller.
                assertThat(vm2.proxy().routes().outbound().values().iterator().next().tiers().get(0).weights())
                        .containsExactly(7);

                // A restart needs no token: the identity is in the state directory.
                vm1.close();
                vm1 = AgentNode.start(server, ProxySettings.defaults(), Clock.systemUTC());
                AgentNode restarted = vm1;
                await().atMost(Duration.ofSeconds(30)).until(() -> restarted.reportedCurrent()
                        && vm2.proxy().routes().outbound().values().stream().anyMatch(t -> t.hasUpstreams()));
                try (Socket s = new Socket("127.0.1.3", importPort)) {
                    assertThat(EchoBackend.exchange(s, "after restart")).isEqualTo("after restart");
                }

                // The workload stops answering: its check fails and the controller withdraws it from vm-2's view.
                backend.close();
                await().atMost(Duration.ofSeconds(10)).until(() -> vm2.proxy().routes().outbound().values().stream()
                        .noneMatch(t -> t.hasUpstreams()));
                String metrics = http(vm1, "/metrics");
                assertThat(metrics).contains("meshfed_agent_service_healthy{service=\"hello.demo:" + backend.port()
                        + "\"} 0.0");
            } finally {
                vm1.close();
            }
        }
    }

    @Test
    void runWithoutAJoinSaysWhatToDo() throws Exception {
        AgentConfig c = config("vm-9", "address: 127.0.1.2\nservices:\n  - name: hello\n    port: 8080\n");
        assertThatThrownBy(() -> AgentNode.start(c, ProxySettings.defaults(), Clock.systemUTC()))
                .hasMessageContaining("holds no identity: run `meshfed-agent join --controller HOST:PORT --token");
        assertThat(Set.of(AgentMain.run("run", "--config", c.file().toString()))).containsExactly(1);
    }

    private static String http(AgentNode node, String path) throws Exception {
        var a = node.httpAddress().orElseThrow();
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + a.getHostString() + ":" + a.getPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void anAgentReportsAgainAfterTheControllerMarkedItGoneWhileItsStreamWasDown() throws Exception {
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"), Duration.ofMillis(300));
                EchoBackend backend = new EchoBackend()) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            AgentConfig c = config("vm-1", "address: 127.0.1.2\ninbound:\n  listen: 127.0.1.2:0\n"
                    + "http:\n  listen: 127.0.1.2:0\nservices:\n  - name: hello\n    weight: 7\n    port: "
                    + backend.port() + "\n");
            join(federation, c, federation.agentToken("east", "demo", "hello.demo"));
            try (AgentNode vm1 = AgentNode.start(c, ProxySettings.defaults(), Clock.systemUTC())) {
                await().atMost(Duration.ofSeconds(30)).until(() -> healthy(federation));
                // The stream is down longer than the grace period (the agent waits 1 s before reconnecting): the
                // controller withdraws the workload; the agent's next stream makes it report again.
                federation.restart();
                await().atMost(Duration.ofSeconds(30)).until(() -> vm1.subscriber().sessions() >= 2);
                await().atMost(Duration.ofSeconds(30)).until(() -> healthy(federation));
            }
        }
    }

    private static boolean healthy(TestFederation f) throws Exception {
        return f.admin().listServices(io.meshfed.api.v1.ListRequest.getDefaultInstance()).getServicesList().stream()
                .flatMap(s -> s.getNetworksList().stream()).flatMap(n -> n.getEndpointsList().stream())
                .anyMatch(e -> e.getHealthy());
    }
}
