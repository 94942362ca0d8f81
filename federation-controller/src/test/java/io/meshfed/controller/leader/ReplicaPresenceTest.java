package io.meshfed.controller.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.postgres.PostgresLocation;
import io.meshfed.controller.store.postgres.PostgresStore;
import io.meshfed.controller.store.sqlite.SqliteStore;
import io.meshfed.controller.testing.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica counts the streams of the others that are alive: a stream that moved to another replica keeps its agent
 * connected, a replica that went silent (killed, paused) stops counting after a lease time, and one that stopped
 * takes its streams with it at once.
 */
class ReplicaPresenceTest {
    private static final Duration TTL = Duration.ofMillis(900);
    private static final TestPostgres postgres = TestPostgres.shared();
    @TempDir
    Path dir;

    @Test
    void theOtherReplicasLiveStreamsCountAndASilentOrStoppedOnesDoNot() {
        PostgresLocation database = postgres.newDatabase();
        String agent = "spiffe://east.acme.mesh/ns/demo/vm/vm-1";
        try (Store a = PostgresStore.open(database, TestPostgres.PASSWORD);
                Store b = PostgresStore.open(database, TestPostgres.PASSWORD)) {
            AtomicReference<Set<String>> onA = new AtomicReference<>(Set.of());
            ReplicaPresence pa = new ReplicaPresence(a, "replica-a", TTL);
            ReplicaPresence pb = new ReplicaPresence(b, "replica-b", TTL);
            try (pb) {
                pa.start(onA::get);
                pb.start(Set::of);
                assertThat(pb.streamedElsewhere(agent)).isFalse();
                onA.set(Set.of(agent)); // the agent's stream is on a now
                await().atMost(Duration.ofSeconds(5)).until(() -> pb.streamedElsewhere(agent));
                assertThat(pa.streamedElsewhere(agent)).as("a replica's own streams are not 'elsewhere'").isFalse();

                // a goes silent, as a killed or paused process: after a lease time its streams no longer count.
                pa.suspend();
                await().atMost(Duration.ofSeconds(5)).until(() -> !pb.streamedElsewhere(agent));
                assertThat(b.get(Kind.REPLICA.storeName(), "replica-a")).as("a silent record stays a while").isPresent();
            }
            // b stopped: its record went with it.
            assertThat(a.get(Kind.REPLICA.storeName(), "replica-b")).isEmpty();
            pa.close();
            assertThat(a.list(Kind.REPLICA.storeName())).isEmpty();
        }
    }

    @Test
    void onAStoreOnlyOneProcessCanHoldThereAreNoOthersAndNothingIsWritten() {
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            try (ReplicaPresence p = new ReplicaPresence(store, "sole", TTL)) {
                p.start(() -> Set.of("spiffe://east.acme.mesh/ns/demo/vm/vm-1"));
                await().during(TTL).atMost(TTL.multipliedBy(2)).until(() -> store.revision() == 0);
                assertThat(p.streamedElsewhere("spiffe://east.acme.mesh/ns/demo/vm/vm-1")).isFalse();
            }
        }
    }
}
