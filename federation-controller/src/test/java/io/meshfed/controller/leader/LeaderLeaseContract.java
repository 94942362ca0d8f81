package io.meshfed.controller.leader;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.store.postgres.PostgresStore;
import io.meshfed.controller.testing.TestPostgres;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link LeaderLease}: every implementation runs it unchanged (the store's own record, a Kubernetes
 * Lease). Handles stand for replicas: each has its own store handle on one PostgreSQL database, as replicas do. What
 * the election and the fencing rely on is here: one winner of a race, a renewal that fails once another took over,
 * epochs that only rise, and the store's {@code Lease/leader} record naming whoever took the lease last.
 */
abstract class LeaderLeaseContract {
    private static final TestPostgres postgres = TestPostgres.shared();
    private final List<AutoCloseable> opened = new ArrayList<>();
    private io.meshfed.controller.store.postgres.PostgresLocation database;
    /** The store the fencing record is read from. */
    protected Store store;

    /** A new lease, never written, each time the contract begins a case. */
    protected abstract void newLease() throws Exception;

    /** A handle on the lease of the latest {@link #newLease()}, keeping its fencing record in {@code replicaStore}. */
    protected abstract LeaderLease handle(Store replicaStore) throws Exception;

    @BeforeEach
    void begin() throws Exception {
        database = postgres.newDatabase();
        store = opened(PostgresStore.open(database, TestPostgres.PASSWORD));
        newLease();
    }

    @AfterEach
    void end() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private <T extends AutoCloseable> T opened(T c) {
        opened.add(c);
        return c;
    }

    /** A replica's handle: its own store handle on the same database. */
    protected LeaderLease replica() throws Exception {
        return opened(handle(opened(PostgresStore.open(database, TestPostgres.PASSWORD))));
    }

    private Optional<LeaseRecord> fence() {
        return Records.get(store, Kind.LEASE, LeaderElection.NAME, LeaseRecord.class);
    }

    @Test
    void aLeaseNeverWrittenReadsEmptyAndIsTakenAtEpochOneWithTheStoreFencedForItsHolder() throws Exception {
        LeaderLease a = replica();
        assertThat(a.read()).isEmpty();
        assertThat(a.take(Optional.empty(), "replica-a")).isEqualTo(1);
        assertThat(a.read()).get().satisfies(s -> {
            assertThat(s.holder()).isEqualTo("replica-a");
            assertThat(s.epoch()).isEqualTo(1);
            assertThat(s.free()).isFalse();
        });
        assertThat(fence()).get().extracting(LeaseRecord::holder, LeaseRecord::epoch).containsExactly("replica-a", 1L);
        assertThat(a.describe()).isNotBlank();
    }

    @Test
    void ofReplicasThatTakeTheSameStateAtOnceExactlyOneWinsAndTheFenceNamesIt() throws Exception {
        int n = 4;
        List<LeaderLease> replicas = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            replicas.add(replica());
        }
        for (int round = 0; round < 3; round++) { // from a lease never written, then from a held one
            Optional<LeaderLease.State> seen = replicas.get(0).read();
            CyclicBarrier start = new CyclicBarrier(n);
            ExecutorService pool = Executors.newFixedThreadPool(n);
            List<Future<Long>> won = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    LeaderLease r = replicas.get(i);
                    String name = "replica-" + round + "-" + i;
                    won.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return r.take(seen, name);
                    }));
                }
                List<Integer> winners = new ArrayList<>();
                long epoch = 0;
                for (int i = 0; i < n; i++) {
                    long e = won.get(i).get(30, TimeUnit.SECONDS);
                    if (e != 0) {
                        winners.add(i);
                        epoch = e;
                    }
                }
                assertThat(winners).as("round %d", round).hasSize(1);
                String winner = "replica-" + round + "-" + winners.get(0);
                assertThat(epoch).isEqualTo(round + 1L);
                assertThat(replicas.get(0).read()).get().extracting(LeaderLease.State::holder).isEqualTo(winner);
                assertThat(fence()).get().extracting(LeaseRecord::holder, LeaseRecord::epoch)
                        .containsExactly(winner, epoch);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aTakeFromAStateThatIsNoLongerCurrentIsRefusedAndTheHolderKeepsTheLease() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        assertThat(a.take(Optional.empty(), "replica-a")).isEqualTo(1);
        assertThat(b.take(Optional.empty(), "replica-b")).as("b acts on a read from before a took it").isZero();
        LeaderLease.State held = b.read().orElseThrow();
        assertThat(a.renew(a.read().orElseThrow(), "replica-a", 1)).isTrue();
        assertThat(b.take(Optional.of(held), "replica-b")).as("a renewed since b read it").isZero();
        assertThat(b.read()).get().extracting(LeaderLease.State::holder).isEqualTo("replica-a");
        assertThat(fence()).get().extracting(LeaseRecord::holder).isEqualTo("replica-a");
    }

    @Test
    void aRenewalChangesTheVersionAndFailsOnceAnotherReplicaTookTheLeaseOver() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        a.take(Optional.empty(), "replica-a");
        LeaderLease.State first = a.read().orElseThrow();
        assertThat(a.renew(first, "replica-a", 1)).isTrue();
        LeaderLease.State renewed = b.read().orElseThrow();
        assertThat(renewed.version()).as("a candidate sees the holder is alive").isNotEqualTo(first.version());
        assertThat(renewed.heldBy("replica-a", 1)).isTrue();

        assertThat(b.take(Optional.of(renewed), "replica-b")).as("b takes over the state it saw").isEqualTo(2);
        assertThat(a.renew(renewed, "replica-a", 1)).as("a renews from what it last saw").isFalse();
        LeaderLease.State now = a.read().orElseThrow();
        assertThat(now.heldBy("replica-b", 2)).isTrue();
        assertThat(a.renew(now, "replica-a", 1)).as("a renews what is b's now").isFalse();
        assertThat(a.read().orElseThrow().heldBy("replica-b", 2)).isTrue();
        assertThat(fence()).get().extracting(LeaseRecord::holder, LeaseRecord::epoch).containsExactly("replica-b", 2L);
    }

    @Test
    void aReleasedLeaseReadsFreeAndTheNextTakeWinsAHigherEpoch() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        a.take(Optional.empty(), "replica-a");
        a.release("replica-a", 1);
        LeaderLease.State free = b.read().orElseThrow();
        assertThat(free.free()).isTrue();
        assertThat(fence()).get().extracting(LeaseRecord::holder).as("nobody may write leader-only").isEqualTo("");
        assertThat(b.take(Optional.of(free), "replica-b")).isEqualTo(2);
        assertThat(fence()).get().extracting(LeaseRecord::holder, LeaseRecord::epoch).containsExactly("replica-b", 2L);
    }

    @Test
    void aReleaseByAnotherHolderOrForAnotherEpochChangesNothing() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        a.take(Optional.empty(), "replica-a");
        LeaderLease.State held = a.read().orElseThrow();
        b.release("replica-b", 1);
        a.release("replica-a", 2);
        assertThat(a.read()).contains(held);
        assertThat(fence()).get().extracting(LeaseRecord::holder, LeaseRecord::epoch).containsExactly("replica-a", 1L);
    }

    @Test
    void everyTakeoverRaisesTheEpoch() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        long last = 0;
        for (int i = 0; i < 6; i++) {
            LeaderLease taker = i % 2 == 0 ? a : b;
            long won = taker.take(taker.read(), "replica-" + i);
            assertThat(won).isGreaterThan(last);
            last = won;
            if (i == 3) {
                taker.release("replica-" + i, won); // a released lease does not start the epochs over
            }
        }
        assertThat(fence()).get().extracting(LeaseRecord::epoch).isEqualTo(last);
    }

    @Test
    void anEpochTakenIsAboveTheFencingRecordsEvenWhenTheLeaseItselfDoesNotKnowIt() throws Exception {
        // As after a switch of leaderLease, or a lease deleted by hand: the store was fenced at epoch 10 already.
        store.transact(tx -> Records.put(tx, Kind.LEASE, LeaderElection.NAME,
                new LeaseRecord("earlier-replica", 10, 0), StoreTransaction.ANY));
        LeaderLease a = replica();
        long won = a.take(a.read(), "replica-a");
        assertThat(won).isEqualTo(11);
        assertThat(fence()).get().extracting(LeaseRecord::holder, LeaseRecord::epoch).containsExactly("replica-a", 11L);
    }

    @Test
    void aHolderWhoseFencingRecordNamesAnotherCannotRenew() throws Exception {
        LeaderLease a = replica();
        a.take(Optional.empty(), "replica-a");
        LeaderLease.State held = a.read().orElseThrow();
        // A replica configured with another lease fenced the store for itself.
        store.transact(tx -> Records.put(tx, Kind.LEASE, LeaderElection.NAME,
                new LeaseRecord("other-replica", 7, 0), StoreTransaction.ANY));
        assertThat(a.renew(a.read().orElse(held), "replica-a", 1)).isFalse();
        assertThat(a.renew(held, "replica-a", 1)).isFalse();
    }
}
