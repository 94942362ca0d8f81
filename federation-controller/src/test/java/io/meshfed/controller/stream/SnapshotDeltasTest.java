package io.meshfed.controller.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.meshfed.api.config.ConfigVersion;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The delta cache and the history of sent snapshots: made once per pair, bounded, and whole when not smaller. */
class SnapshotDeltasTest {
    private final List<Runnable> worker = new ArrayList<>();
    private final List<Runnable> loop = new ArrayList<>();
    private final AtomicInteger made = new AtomicInteger();
    private final SnapshotDeltas deltas = new SnapshotDeltas(worker::add, loop::add, made::incrementAndGet);

    private static PreparedSnapshot snapshot(int services, int endpointsEach, String padding) {
        ConfigSnapshot.Builder b = ConfigSnapshot.newBuilder().setMember("west").setNetwork("west")
                .setSvidIssuerRoot(ByteString.copyFromUtf8(padding));
        for (int s = 0; s < services; s++) {
            NetworkEndpoints.Builder n = NetworkEndpoints.newBuilder().setNetwork("west").setLocal(true);
            for (int e = 0; e < endpointsEach; e++) {
                n.addEndpoints(Endpoint.newBuilder().setAddress("10.0." + s + "." + e).setPort(8080));
            }
            b.addServices(Service.newBuilder().setNamespace("demo").setName("svc-" + s).addNetworks(n));
        }
        return PreparedSnapshot.of(b.setVersion(ConfigVersion.of(b.build())).build());
    }

    private void runAll() {
        while (!worker.isEmpty() || !loop.isEmpty()) {
            List.copyOf(worker).forEach(Runnable::run);
            worker.clear();
            List.copyOf(loop).forEach(Runnable::run);
            loop.clear();
        }
    }

    @Test
    void aDeltaIsMadeOnceOnTheWorkerAndSharedByEveryoneWhoNeedsIt() {
        PreparedSnapshot v1 = snapshot(50, 20, "");
        PreparedSnapshot v2 = snapshot(51, 20, "");
        assertThat(deltas.message(v1, v2)).as("not made yet").isNull();
        assertThat(deltas.message(v1, v2)).isNull();
        assertThat(worker).as("one computation for both asks").hasSize(1);
        runAll();
        assertThat(made.get()).isEqualTo(1);
        PreparedSnapshot message = deltas.message(v1, v2);
        assertThat(message.content().hasDelta()).isTrue();
        assertThat(message.bytes().length).isLessThan(v2.bytes().length / 10);
        assertThat(deltas.message(v1, v2)).isSameAs(message);
        assertThat(worker).isEmpty();
    }

    @Test
    void whenTheDeltaWouldNotBeSmallerTheWholeSnapshotIsSent() {
        PreparedSnapshot small = snapshot(0, 0, "a");
        PreparedSnapshot other = snapshot(0, 0, "b");
        deltas.message(small, other);
        runAll();
        assertThat(deltas.message(small, other)).isSameAs(other);
    }

    /** One too large to keep would be evicted as it is stored, and made again on every ask: it is sent whole. */
    @Test
    void aDeltaTooLargeToKeepIsSentWholeAndMadeOnlyOnce() {
        int large = (int) (SnapshotDeltas.MAX_DELTA_BYTES / 4) + 1024;
        PreparedSnapshot v1 = snapshot(50, 20, "a".repeat(large));
        PreparedSnapshot v2 = snapshot(50, 20, "b".repeat(large));
        deltas.message(v1, v2);
        runAll();
        assertThat(deltas.message(v1, v2)).isSameAs(v2);
        assertThat(worker).as("not made again").isEmpty();
        assertThat(made.get()).isEqualTo(1);
    }

    @Test
    void theHistoryKeepsTheLatestSnapshotsWithinItsBounds() {
        List<PreparedSnapshot> sent = new ArrayList<>();
        for (int i = 0; i < SnapshotDeltas.MAX_HISTORY + 5; i++) {
            PreparedSnapshot s = snapshot(1, 1, "v" + i);
            sent.add(s);
            deltas.remember("west", s);
        }
        assertThat(deltas.remembered("west", sent.get(0).version())).isEmpty();
        assertThat(deltas.remembered("west", sent.get(4).version())).isEmpty();
        assertThat(deltas.remembered("west", sent.get(5).version())).contains(sent.get(5));
        assertThat(deltas.remembered("west", sent.get(sent.size() - 1).version())).contains(sent.get(sent.size() - 1));
        assertThat(deltas.remembered("east", sent.get(sent.size() - 1).version())).as("another key's").isEmpty();

        PreparedSnapshot big = snapshot(1, 1, "x".repeat((int) (SnapshotDeltas.MAX_HISTORY_BYTES / 2) + 1));
        PreparedSnapshot bigger = snapshot(1, 1, "y".repeat((int) (SnapshotDeltas.MAX_HISTORY_BYTES / 2) + 1));
        deltas.remember("west", big);
        deltas.remember("west", bigger);
        assertThat(deltas.remembered("west", bigger.version())).contains(bigger);
        assertThat(deltas.remembered("west", big.version())).as("over the byte bound: the older goes").isEmpty();
    }
}
