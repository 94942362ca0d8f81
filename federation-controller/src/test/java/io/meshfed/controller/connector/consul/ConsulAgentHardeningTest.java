package io.meshfed.controller.connector.consul;

import static org.assertj.core.api.Assertions.assertThat;

import com.ecwid.consul.v1.QueryParams;
import com.sun.net.httpserver.HttpServer;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.controller.model.WorkloadSetRecord;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What a Consul party, or another member, must not be able to make the controller do: share one Consul name
 * between two federated services, keep a watch polling in a loop, or send the controller (and its token) to
 * another host.
 */
class ConsulAgentHardeningTest {

    /**
     * Two different federated services must never be published under one Consul name: {@code hello.demo-prod} and
     * {@code hello-demo.prod} both become {@code hello-demo-prod} (and, on the same port, the same registration ID,
     * so one silently replaces the other). Any member that can export {@code hello-demo.prod} (a Kubernetes
     * ServiceExport exports to all) then receives the Consul clients' traffic meant for {@code hello.demo-prod}.
     */
    @Test
    void distinctFederatedServicesNeverShareAConsulName() {
        ConfigSnapshot snapshot = ConfigSnapshot.newBuilder()
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo-prod")
                        .setServicePort(80).setListenPort(20001))
                .addOutbound(OutboundListener.newBuilder().setService("hello-demo").setNamespace("prod")
                        .setServicePort(80).setListenPort(20002))
                .build();
        PublishedImports.Desired desired = PublishedImports.desired(snapshot.toBuilder()
                .addOutbound(OutboundListener.newBuilder().setService("other").setNamespace("demo")
                        .setServicePort(80).setListenPort(20003)).build(), "127.0.40.1", "dc1");
        assertThat(desired.registrations()).as("neither of two services that would share a name is published")
                .extracting(PublishedImports.Registration::name).containsExactly("other-demo");
        assertThat(desired.collisions()).containsOnlyKeys("hello-demo-prod");
        assertThat(desired.collisions().get("hello-demo-prod")).containsExactlyInAnyOrder("hello.demo-prod",
                "hello-demo.prod");
    }

    /**
     * An agent that answers at once without an {@code X-Consul-Index} (or with 0, or with an index that goes
     * backwards) must still be paced: the watch's own contract is "never queries again sooner than MIN_INTERVAL
     * after an answer whose index did not move". BlockingIndex.next answers 0 and pace() skips the wait when the
     * index is 0, so every watch thread (up to MAX_SERVICES + 1 per member) spins.
     */
    @Test
    void anAgentAnsweringWithoutAnIndexIsNotPolledInABusyLoop() throws Exception {
        AtomicInteger catalogRequests = new AtomicInteger();
        HttpServer agent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        agent.createContext("/", ex -> {
            if (ex.getRequestURI().getPath().equals("/v1/catalog/services")) {
                catalogRequests.incrementAndGet();
            }
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length); // no X-Consul-Index
            ex.getResponseBody().write(body);
            ex.close();
        });
        agent.start();
        try (ConsulConnection connection = ConsulConnection.open(URI.create("http://127.0.0.1:"
                + agent.getAddress().getPort()), Duration.ofSeconds(2))) {
            ConsulCatalogWatch watch = new ConsulCatalogWatch("evil", connection.client(), null, "dc1",
                    NamespaceFrom.TAG, Set::of, Duration.ofSeconds(2), new ConsulCatalogWatch.Listener() {
                        @Override
                        public void changed(ConsulCatalogWatch.Answer answer) {
                        }

                        @Override
                        public void error(String reason) {
                        }
                    });
            watch.start();
            Thread.sleep(3_000);
            watch.close();
        } finally {
            agent.stop(0);
        }
        assertThat(catalogRequests.get()).as("catalog queries in 3 s against an agent that sends no index")
                .isLessThanOrEqualTo(6);
    }

    /**
     * A member's agent must not be able to send the controller elsewhere: Apache HttpClient follows redirects of
     * GETs by default (HttpClients.custom() without disableRedirectHandling), so a Consul party can make the
     * controller issue GETs to any URL it can reach (cloud metadata, internal admin endpoints, https to http), and
     * the answer's status and first 300 characters end up in the member's last_error and the controller's log.
     */
    @Test
    void redirectsFromTheAgentAreNotFollowed() throws Exception {
        AtomicInteger elsewhere = new AtomicInteger();
        AtomicReference<String> tokenElsewhere = new AtomicReference<>();
        HttpServer internal = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        internal.createContext("/", ex -> {
            elsewhere.incrementAndGet();
            tokenElsewhere.set(ex.getRequestHeaders().getFirst(TokenInHeader.HEADER));
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("X-Consul-Index", "5");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        internal.start();
        HttpServer agent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        agent.createContext("/", ex -> {
            ex.getResponseHeaders().set("Location", "http://127.0.0.1:" + internal.getAddress().getPort()
                    + "/latest/meta-data/iam/security-credentials/");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        agent.start();
        try (ConsulConnection connection = ConsulConnection.open(URI.create("http://127.0.0.1:"
                + agent.getAddress().getPort()), Duration.ofSeconds(2))) {
            try {
                connection.client().getCatalogServices(new QueryParams("dc1", 1, 0), "secret-token");
            } catch (RuntimeException expected) {
                // a refused redirect is an error of the watch: fine
            }
        } finally {
            agent.stop(0);
            internal.stop(0);
        }
        assertThat(tokenElsewhere.get()).as("the token never reaches another host").isNull();
        assertThat(elsewhere.get()).as("requests the agent redirected to another host").isZero();
    }
}
