package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AttestedSource;
import io.meshfed.client.StateDir;
import io.meshfed.controller.testing.TestFederation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway attests pods by source address only while its config is current: a snapshot from the disk cache attests
 * nobody until the config stream is up, a stream down for longer than the grace withdraws the attestation (a pod IP
 * freed meanwhile may be another pod's), and the stream's return restores it. Meanwhile routes keep working.
 */
class AttestationFreshnessTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String CART = "spiffe://east.acme.mesh/ns/shop/sa/cart";

    @TempDir
    Path dir;

    private static Optional<String> who(GatewayNode node) throws Exception {
        return node.gateway().attestation().attest(InetAddress.getByName("10.1.0.5")).map(Object::toString);
    }

    private static String fresh(GatewayNode node) throws Exception {
        InetSocketAddress a = node.httpAddress().orElseThrow();
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                + a.getHostString() + ":" + a.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                .body();
        return body.lines().filter(l -> l.startsWith("meshfed_gateway_attestation_fresh ")).findFirst()
                .orElseThrow(() -> new AssertionError("no meshfed_gateway_attestation_fresh in\n" + body));
    }

    private static GatewayNode.Options options(StateDir state, Duration grace) throws Exception {
        return new GatewayNode.Options("127.0.0.1:1", null, "east", "east-gw", state,
                new InetSocketAddress("127.0.1.1", 0), null, InetAddress.getByName("127.0.1.1"),
                new InetSocketAddress("127.0.1.1", 0), null, null, grace);
    }

    @Test
    void attestedSourcesHoldOnlyWhileTheConfigStreamIsUpOrWasWithinTheGrace() throws Exception {
        StateDir state = new StateDir(dir.resolve("gw"));
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            StallingController first = StallingController.forGateway(federation, state,
                    n -> StallingController.Answer.OK, s -> s.toBuilder().setVersion("with-cart")
                            .addAttestedSources(AttestedSource.newBuilder().setAddress("10.1.0.5").setIdentity(CART))
                            .build(), 0);
            int port = first.port();
            try (GatewayNode node = GatewayNode.start(options(state, Duration.ofSeconds(1)), Clock.systemUTC())) {
                await().atMost(WAIT).until(() -> who(node).isPresent());
                assertThat(who(node)).contains(CART);
                assertThat(fresh(node)).endsWith(" 1.0");

                first.close(); // the controller goes away: within the grace the pod is still attested...
                await().atMost(WAIT).until(() -> !node.subscriber().connected());
                // ...after it, nobody is, while the routes of the snapshot stay in effect.
                await().atMost(WAIT).until(() -> who(node).isEmpty());
                assertThat(fresh(node)).endsWith(" 0.0");
                assertThat(node.gateway().proxy().routes().version()).isEqualTo("with-cart");

                try (StallingController back = first.again(port)) { // the stream returns: attested again
                    await().atMost(WAIT).until(() -> who(node).isPresent());
                    assertThat(who(node)).contains(CART);
                    assertThat(fresh(node)).endsWith(" 1.0");
                }
            }

            // A restart while the controller is away: the cached snapshot's routes, but no pod attested.
            try (GatewayNode node = GatewayNode.start(options(state, Duration.ofSeconds(30)), Clock.systemUTC())) {
                assertThat(node.subscriber().version()).isEqualTo("with-cart");
                assertThat(node.gateway().attestation().size()).as("the cached snapshot's sources are held").isEqualTo(1);
                assertThat(who(node)).as("but not in effect before the stream is up").isEmpty();
                assertThat(fresh(node)).endsWith(" 0.0");
                try (StallingController back = first.again(port)) {
                    await().atMost(WAIT).until(() -> who(node).isPresent());
                }
            }
        }
    }
}
