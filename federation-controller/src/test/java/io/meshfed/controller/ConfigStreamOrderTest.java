package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.controller.testing.ManualExecutor;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The config streams read the store and build snapshots on a worker, off their loop. Work handed to the worker can
 * come back in any order; a snapshot built from an older store revision is never sent after a newer one.
 */
class ConfigStreamOrderTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static SubscriberStatus status(TestFederation f, String spiffeId) {
        return f.controller().streams().status().stream().filter(s -> s.getSpiffeId().equals(spiffeId)).findFirst()
                .orElseThrow();
    }

    @Test
    void aSnapshotBuiltFromAnOlderRevisionThatReturnsLateIsNotSent() throws Exception {
        ManualExecutor reads = new ManualExecutor();
        try (TestFederation federation = TestFederation.withFakeTime(dir, Duration.ofMinutes(30), reads)) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            await().atMost(WAIT).until(() -> {
                federation.forwardTime(TestFederation.PUSH_DEBOUNCE);
                return reads.pending() > 0;
            });
            reads.runAll(); // the view with west in it

            String gatewayId = "spiffe://west.acme.mesh/meshfed/gateway/gw";
            String edgeId = "spiffe://west.acme.mesh/meshfed/edge/edge-1";
            try (TestSubscriber gateway = new TestSubscriber(federation.channel(
                    federation.memberSvid("west.acme.mesh", "/meshfed/gateway/gw")))) {
                await().atMost(WAIT).until(() -> reads.pending() == 1); // its snapshot, built on the worker
                reads.runAll();
                await().atMost(WAIT).until(() -> gateway.latest() != null);
                String before = gateway.latest().getVersion();

                try (TestSubscriber edge = new TestSubscriber(federation.channel(
                        federation.memberSvid("west.acme.mesh", "/meshfed/edge/edge-1")))) {
                    // The edge's snapshot (another cache key) is now being built from the current revision...
                    await().atMost(WAIT).until(() -> reads.pending() == 1);
                    // ...when a change makes every snapshot differ (a new member: a new bundle in the set).
                    admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
                    admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                            .build());
                    await().atMost(WAIT).until(() -> {
                        federation.forwardTime(TestFederation.PUSH_DEBOUNCE);
                        return reads.pending() == 2; // the refresh's read, queued behind the edge's build
                    });

                    reads.runLast(); // the newer read overtakes the older build
                    await().atMost(WAIT).until(() -> edge.latest() != null
                            && !gateway.latest().getVersion().equals(before));
                    String newer = edge.latest().getVersion();
                    assertThat(status(federation, edgeId).getSentVersion()).isEqualTo(newer);

                    reads.runFirst(); // the edge's build from the older revision comes back last
                    // status() runs on the stream loop after the late build was handed back to it.
                    assertThat(status(federation, edgeId).getSentVersion()).as("nothing older sent after it")
                            .isEqualTo(newer);
                    assertThat(status(federation, gatewayId).getSentVersion())
                            .isEqualTo(gateway.latest().getVersion());
                    assertThat(reads.pending()).as("the newer revision's snapshot was cached, nothing rebuilt")
                            .isZero();
                    await().atMost(WAIT).until(() -> status(federation, edgeId).getAckedVersion().equals(newer));
                    assertThat(edge.latest().getVersion()).isEqualTo(newer);
                }
            }
        }
    }
}
