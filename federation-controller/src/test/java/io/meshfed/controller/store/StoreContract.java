package io.meshfed.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link Store}. Every implementation runs it unchanged: SQLite (embedded) and PostgreSQL (HA). A
 * store either shares its database between handles (several controller replicas on one PostgreSQL) or refuses a
 * second handle with its reason (two controllers on one SQLite file would corrupt it); the cases for both are here.
 */
public abstract class StoreContract {
    protected Store store;

    /** A new, empty store. */
    protected abstract Store newStore() throws Exception;

    /** A new, empty store that keeps only about {@code retainedChanges} change-log entries. */
    protected abstract Store newStoreRetaining(long retainedChanges) throws Exception;

    /** The database of the latest {@link #newStore()} opened again, after that handle was closed. */
    protected abstract Store reopen() throws Exception;

    /** Another handle on the database of the latest {@link #newStore()}, as a second replica would open it. */
    protected abstract Store openSecondHandle() throws Exception;

    /** Whether handles share one database ({@link #openSecondHandle()} works) or the second is refused. */
    protected abstract boolean sharesDatabase();

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void emptyStoreIsAtRevisionZero() {
        assertThat(store.revision()).isZero();
        assertThat(store.get("Member", "east")).isEmpty();
        assertThat(store.list("Member")).isEmpty();
        assertThat(store.changesSince(0, 100)).isEmpty();
    }

    @Test
    void everyWriteTakesTheNextGlobalRevision() {
        Resource a = store.put("Member", "east", "{\"n\":1}", StoreTransaction.ABSENT);
        Resource b = store.put("Network", "east", "{}", StoreTransaction.ABSENT);
        Resource a2 = store.put("Member", "east", "{\"n\":2}", a.revision());
        assertThat(List.of(a.revision(), b.revision(), a2.revision())).containsExactly(1L, 2L, 3L);
        assertThat(store.revision()).isEqualTo(3);
        Resource read = store.get("Member", "east").orElseThrow();
        assertThat(read.json()).isEqualTo("{\"n\":2}");
        assertThat(read.revision()).isEqualTo(3);
        assertThat(read.createdRevision()).isEqualTo(1);
    }

    @Test
    void listIsPerKindAndOrderedByName() {
        store.put("Member", "west", "{}", StoreTransaction.ANY);
        store.put("Member", "east", "{}", StoreTransaction.ANY);
        store.put("Network", "north", "{}", StoreTransaction.ANY);
        assertThat(store.list("Member")).extracting(Resource::name).containsExactly("east", "west");
        assertThat(store.list("Network")).extracting(Resource::name).containsExactly("north");
        assertThat(store.kinds()).containsExactly("Member", "Network");
        // Bytewise, whatever the database's locale: upper case before lower, '-' before digits.
        store.put("Member", "a-1", "{}", StoreTransaction.ANY);
        store.put("Member", "Zulu", "{}", StoreTransaction.ANY);
        store.put("Member", "a1", "{}", StoreTransaction.ANY);
        assertThat(store.list("Member")).extracting(Resource::name).containsExactly("Zulu", "a-1", "a1", "east",
                "west");
    }

    @Test
    void compareAndSetRefusesStaleWrites() {
        Resource a = store.put("Member", "east", "{}", StoreTransaction.ABSENT);
        assertThatThrownBy(() -> store.put("Member", "east", "{}", StoreTransaction.ABSENT))
                .isInstanceOf(ConflictException.class).hasMessageContaining("must not exist");
        store.put("Member", "east", "{\"v\":2}", a.revision());
        assertThatThrownBy(() -> store.put("Member", "east", "{\"v\":3}", a.revision()))
                .isInstanceOf(ConflictException.class).hasMessageContaining("expected " + a.revision());
        assertThatThrownBy(() -> store.delete("Member", "east", a.revision())).isInstanceOf(ConflictException.class);
        assertThat(store.get("Member", "east").orElseThrow().json()).isEqualTo("{\"v\":2}");
    }

    @Test
    void deleteRemovesAndIsLogged() {
        Resource a = store.put("Member", "east", "{}", StoreTransaction.ABSENT);
        assertThat(store.delete("Member", "east", a.revision())).isTrue();
        assertThat(store.delete("Member", "east", StoreTransaction.ANY)).isFalse();
        assertThat(store.get("Member", "east")).isEmpty();
        List<Change> changes = store.changesSince(0, 10);
        assertThat(changes).extracting(Change::op).containsExactly(Change.Op.PUT, Change.Op.DELETE);
        assertThat(changes.get(1).json()).isNull();
        assertThat(store.revision()).isEqualTo(2);
    }

    @Test
    void transactionIsAllOrNothing() {
        store.put("Token", "t1", "{\"used\":false}", StoreTransaction.ABSENT);
        long before = store.revision();
        assertThatThrownBy(() -> store.transact(tx -> {
            tx.put("Member", "a", "{}", StoreTransaction.ABSENT);
            tx.put("Member", "b", "{}", StoreTransaction.ABSENT);
            assertThat(tx.get("Member", "a")).as("a transaction sees its own writes").isPresent();
            return tx.put("Token", "t1", "{}", StoreTransaction.ABSENT); // conflicts
        })).isInstanceOf(ConflictException.class);
        assertThat(store.revision()).isEqualTo(before);
        assertThat(store.list("Member")).isEmpty();
        assertThat(store.changesSince(before, 10)).isEmpty();
    }

    @Test
    void failingBodyWritesNothing() {
        assertThatThrownBy(() -> store.transact(tx -> {
            tx.put("Member", "a", "{}", StoreTransaction.ABSENT);
            throw new IllegalStateException("caller gave up");
        })).hasMessage("caller gave up");
        assertThat(store.get("Member", "a")).isEmpty();
        assertThat(store.revision()).isZero();
        // The store is usable afterwards, at the next revision.
        assertThat(store.put("Member", "a", "{}", StoreTransaction.ABSENT).revision()).isEqualTo(1);
    }

    @Test
    void changesSinceReadsInOrderWithALimit() {
        for (int i = 0; i < 10; i++) {
            store.put("Item", "i" + i, "{\"i\":" + i + "}", StoreTransaction.ANY);
        }
        assertThat(store.changesSince(3, 4)).extracting(Change::revision).containsExactly(4L, 5L, 6L, 7L);
        assertThat(store.changesSince(10, 4)).isEmpty();
        assertThat(store.changesSince(0, 100).get(0).json()).isEqualTo("{\"i\":0}");
    }

    @Test
    void watchReplaysThenFollowsWithoutGapOrRepeatUnderConcurrentWriters() throws Exception {
        for (int i = 0; i < 50; i++) {
            store.put("Item", "pre" + i, "{}", StoreTransaction.ANY);
        }
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        ExecutorService writers = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            futures.add(writers.submit(() -> {
                for (int i = 0; i < 100; i++) {
                    store.put("Item", "w" + writer + "-" + i, "{}", StoreTransaction.ANY);
                }
            }));
        }
        try (Store.Watch watch = store.watch(20, c -> seen.add(c.revision()))) {
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 450 - 20);
            List<Long> expected = new ArrayList<>();
            for (long r = 21; r <= 450; r++) {
                expected.add(r);
            }
            assertThat(seen).isEqualTo(expected);
        } finally {
            writers.shutdownNow();
        }
    }

    @Test
    void closedWatchHearsNothingMoreAndAFailingListenerHurtsNoOther() throws Exception {
        List<Long> closedOne = new CopyOnWriteArrayList<>();
        List<Long> healthy = new CopyOnWriteArrayList<>();
        Store.Watch a = store.watch(0, c -> closedOne.add(c.revision()));
        Store.Watch bad = store.watch(0, c -> {
            throw new IllegalStateException("listener bug");
        });
        Store.Watch b = store.watch(0, c -> healthy.add(c.revision()));
        store.put("Item", "1", "{}", StoreTransaction.ANY);
        await().atMost(Duration.ofSeconds(10)).until(() -> healthy.size() == 1 && closedOne.size() == 1);
        a.close();
        store.put("Item", "2", "{}", StoreTransaction.ANY);
        await().atMost(Duration.ofSeconds(10)).until(() -> healthy.size() == 2);
        assertThat(closedOne).containsExactly(1L);
        bad.close();
        b.close();
    }

    @Test
    void everythingSurvivesAReopen() throws Exception {
        store.put("Member", "east", "{\"network\":\"east\"}", StoreTransaction.ABSENT);
        store.put("Member", "west", "{}", StoreTransaction.ABSENT);
        store.delete("Member", "west", StoreTransaction.ANY);
        store.close();
        store = reopen();
        assertThat(store.revision()).isEqualTo(3);
        assertThat(store.get("Member", "east").orElseThrow().json()).isEqualTo("{\"network\":\"east\"}");
        assertThat(store.changesSince(0, 10)).hasSize(3);
        assertThat(store.put("Member", "north", "{}", StoreTransaction.ABSENT).revision()).isEqualTo(4);
    }

    @Test
    void compactedChangesAskTheReaderToRelist() throws Exception {
        try (Store small = newStoreRetaining(100)) {
            for (int i = 0; i < 1200; i++) {
                small.put("Item", "i" + (i % 50), "{}", StoreTransaction.ANY);
            }
            assertThatThrownBy(() -> small.changesSince(5, 10)).isInstanceOf(CompactedException.class)
                    .hasMessageContaining("list again");
            assertThatThrownBy(() -> small.watch(5, c -> { })).isInstanceOf(CompactedException.class)
                    .hasMessageContaining("list again");
            assertThat(small.changesSince(1150, 100)).extracting(Change::revision).hasSize(50)
                    .startsWith(1151L).endsWith(1200L);
            assertThat(small.list("Item")).hasSize(50);
            // What is left follows on without a gap: a watch from the oldest retained revision hears the rest.
            long oldest = small.changesSince(1100, 1).get(0).revision() - 1;
            List<Long> heard = new CopyOnWriteArrayList<>();
            try (Store.Watch w = small.watch(oldest, c -> heard.add(c.revision()))) {
                small.put("Item", "after", "{}", StoreTransaction.ANY);
                await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(1201L));
                assertThat(heard).first().isEqualTo(oldest + 1);
                assertThat(heard).hasSize((int) (1201 - oldest)).doesNotHaveDuplicates().isSorted();
            }
        }
    }

    @Test
    void aSecondHandleIsRefusedWithItsReasonWhenTheDatabaseIsNotShared() {
        assumeFalse(sharesDatabase(), "this store shares its database between handles");
        store.put("Member", "east", "{}", StoreTransaction.ABSENT);
        assertThatThrownBy(this::openSecondHandle).isInstanceOf(StoreException.class)
                .hasMessageContaining("in use by another");
        // The first handle is unharmed.
        assertThat(store.put("Member", "west", "{}", StoreTransaction.ABSENT).revision()).isEqualTo(2);
    }

    @Test
    void twoHandlesTakeUniqueOrderedRevisionsAndSeeEachOthersWrites() throws Exception {
        assumeTrue(sharesDatabase(), "this store refuses a second handle");
        try (Store other = openSecondHandle()) {
            Resource a = store.put("Member", "east", "{\"v\":1}", StoreTransaction.ABSENT);
            assertThat(other.get("Member", "east")).get().extracting(Resource::json).isEqualTo("{\"v\":1}");
            // A compare-and-set against what one handle read fails once the other wrote.
            other.put("Member", "east", "{\"v\":2}", a.revision());
            assertThatThrownBy(() -> store.put("Member", "east", "{\"v\":3}", a.revision()))
                    .isInstanceOf(ConflictException.class).hasMessageContaining("expected " + a.revision());
            assertThat(store.revision()).isEqualTo(2);

            ExecutorService writers = Executors.newFixedThreadPool(4);
            List<Future<List<Long>>> futures = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                Store handle = w % 2 == 0 ? store : other;
                int writer = w;
                futures.add(writers.submit(() -> {
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        mine.add(handle.put("Item", "w" + writer + "-" + i, "{}", StoreTransaction.ANY).revision());
                    }
                    return mine;
                }));
            }
            List<Long> all = new ArrayList<>();
            try {
                for (Future<List<Long>> f : futures) {
                    List<Long> mine = f.get(60, TimeUnit.SECONDS);
                    assertThat(mine).as("one writer's revisions rise").isSorted();
                    all.addAll(mine);
                }
            } finally {
                writers.shutdownNow();
            }
            Collections.sort(all);
            List<Long> expected = new ArrayList<>();
            for (long r = 3; r <= 202; r++) {
                expected.add(r);
            }
            assertThat(all).as("every revision taken once, none skipped").isEqualTo(expected);
            assertThat(other.revision()).isEqualTo(202);
            assertThat(store.changesSince(0, 1000)).extracting(Change::revision).hasSize(202).isSorted();
        }
    }

    @Test
    void aWatchHearsTheOtherHandlesWritesInOrderWithoutGapOrRepeat() throws Exception {
        assumeTrue(sharesDatabase(), "this store refuses a second handle");
        try (Store other = openSecondHandle()) {
            store.put("Item", "before", "{}", StoreTransaction.ANY);
            List<Change> heard = new CopyOnWriteArrayList<>();
            try (Store.Watch w = store.watch(store.revision(), heard::add)) {
                for (int i = 0; i < 30; i++) {
                    (i % 3 == 0 ? store : other).put("Item", "i" + i, "{\"i\":" + i + "}", StoreTransaction.ANY);
                }
                other.delete("Item", "i0", StoreTransaction.ANY);
                await().atMost(Duration.ofSeconds(15)).until(() -> heard.size() == 31);
                assertThat(heard).extracting(Change::revision).isEqualTo(
                        java.util.stream.LongStream.rangeClosed(2, 32).boxed().toList());
                assertThat(heard.get(1).json()).isEqualTo("{\"i\":1}");
                assertThat(heard.get(30).op()).isEqualTo(Change.Op.DELETE);
            }
        }
    }
}
