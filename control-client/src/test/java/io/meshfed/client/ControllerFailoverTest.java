package io.meshfed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.ControllerConfig;
import io.meshfed.controller.store.StoreSettings;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestPostgres;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node of a federation with two controller replicas on one PostgreSQL: it learns both addresses at join, and when
 * the replica that holds its config stream goes away it moves to the other, keeping its config meanwhile, and takes
 * the next change from there.
 */
class ControllerFailoverTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    @TempDir
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aNodeMovesToTheOtherReplicaWhenItsOneGoesAwayAndKeepsItsConfigMeanwhile() throws Exception {
        try (TestPostgres postgres = TestPostgres.start()) {
            StoreSettings store = new StoreSettings(postgres.newDatabase().toString(),
                    StoreSettings.Password.fromEnvironment("MESHFED_STORE_PASSWORD", TestPostgres.PASSWORD));
            UnaryOperator<ControllerConfig> shared = c -> c.withStore(store).withLeaderLeaseTtl(Duration.ofSeconds(2));
            Path data = dir.resolve("controller");
            TestFederation a = TestFederation.start(data, shared);
            TestFederation b = null;
            try {
                a.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
                a.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                        .build());
                String addressA = "127.0.0.1:" + a.address().getPort();
                int portB = freePort();
                String addressB = "127.0.0.1:" + portB;
                b = TestFederation.start(data, c -> shared.apply(c).withListen(new InetSocketAddress("127.0.0.1", portB),
                        addressA + "," + addressB));

                StateDir state = new StateDir(dir.resolve("gw"));
                Joiner.join(addressB, b.token("east", Role.ROLE_GATEWAY), new Joiner.Identity(Role.ROLE_GATEWAY,
                        "east", "gw", null, List.of("127.0.1.1:15443")), state, Clock.systemUTC());
                assertThat(state.controller().getAddressesList()).as("every replica, told at join")
                        .containsExactly(addressA, addressB);

                String id = "spiffe://east.acme.mesh/meshfed/gateway/gw";
                List<ConfigSnapshot> applied = new CopyOnWriteArrayList<>();
                try (NodeSession session = NodeSession.open(state, Clock.systemUTC());
                        ConfigSubscriber subscriber = ConfigSubscriber.start(session, applied::add)) {
                    TestFederation first = a;
                    TestFederation second = b;
                    await().atMost(WAIT).until(() -> subscriber.connected() && !subscriber.version().isEmpty()
                            && (holds(first, id) || holds(second, id)));
                    TestFederation holder = holds(a, id) ? a : b;
                    TestFederation other = holder == a ? b : a;
                    String before = subscriber.version();

                    holder.close(); // the node's replica goes away
                    if (holder == a) {
                        a = null;
                    } else {
                        b = null;
                    }
                    await().atMost(WAIT).until(() -> holds(other, id) && subscriber.connected());
                    assertThat(subscriber.version()).as("the same config: nothing to send again").isEqualTo(before);

                    other.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east")
                            .setGatewayAddress("127.0.1.1:15443").build());
                    await().atMost(WAIT).until(() -> !subscriber.version().equals(before));
                    assertThat(applied.get(applied.size() - 1).getGatewaysList()).singleElement()
                            .satisfies(g -> assertThat(g.getAddress()).isEqualTo("127.0.1.1:15443"));
                }
            } finally {
                if (b != null) {
                    b.close();
                }
                if (a != null) {
                    a.close();
                }
            }
        }
    }

    /** Whether {@code replica} holds a config stream of {@code id} now. */
    private static boolean holds(TestFederation replica, String id) throws Exception {
        return replica.admin().status(ListRequest.getDefaultInstance()).getSubscribersList().stream()
                .anyMatch(s -> s.getSpiffeId().equals(id));
    }
}
