package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One SPIFFE ID may hold at most 8 config streams at once (by default); a ninth is refused and says why. */
class ConfigStreamLimitTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String GW = "spiffe://east.acme.mesh/meshfed/gateway/gw";

    @TempDir
    Path dir;

    private static long streamsOf(TestFederation federation, String id) throws Exception {
        return federation.admin().status(ListRequest.getDefaultInstance()).getSubscribersList().stream()
                .filter(s -> s.getSpiffeId().equals(id)).count();
    }

    @Test
    void theNinthStreamOfOneIdentityIsRefusedAndClosingOneFreesASlot() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm")
                    .setNetwork("east").build());
            ManagedChannel gateway = federation.channel(federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw"));
            List<TestSubscriber> streams = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    TestSubscriber s = new TestSubscriber(gateway);
                    streams.add(s);
                    s.awaitSnapshot(x -> true, WAIT);
                }
                TestSubscriber ninth = new TestSubscriber(gateway);
                streams.add(ninth);
                await().atMost(WAIT).until(() -> ninth.error() != null);
                Status refused = Status.fromThrowable(ninth.error());
                assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(refused.getDescription()).isEqualTo(GW + " has 8 config streams open, the most one"
                        + " identity may hold (configStreamsPerIdentity); close one first");
                assertThat(ninth.latest()).isNull();
                assertThat(streamsOf(federation, GW)).isEqualTo(8);

                // Another identity is not limited by this one's streams.
                TestSubscriber other = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                        "/meshfed/gateway/gw-2")));
                streams.add(other);
                other.awaitSnapshot(x -> true, WAIT);

                streams.get(0).close();
                await().atMost(WAIT).until(() -> streamsOf(federation, GW) == 7);
                TestSubscriber again = new TestSubscriber(gateway);
                streams.add(again);
                assertThat(again.awaitSnapshot(x -> true, WAIT)).isNotNull();
                assertThat(again.error()).isNull();
                assertThat(Http.get(federation, "/metrics").body())
                        .contains("meshfed_refusals_total{call=\"config_stream\",reason=\"stream_limit\"} 1.0");
            } finally {
                streams.forEach(TestSubscriber::close);
            }
        }
    }

    @Test
    void theLimitIsConfigurable() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, c -> c.withConfigStreamsPerIdentity(1))) {
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm")
                    .setNetwork("east").build());
            ManagedChannel gateway = federation.channel(federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw"));
            try (TestSubscriber first = new TestSubscriber(gateway)) {
                first.awaitSnapshot(x -> true, WAIT); // holds the one slot before the second asks
                try (TestSubscriber second = new TestSubscriber(gateway)) {
                    await().atMost(WAIT).until(() -> second.error() != null);
                    assertThat(Status.fromThrowable(second.error()).getDescription())
                            .contains("has 1 config streams open");
                }
            }
        }
    }
}
