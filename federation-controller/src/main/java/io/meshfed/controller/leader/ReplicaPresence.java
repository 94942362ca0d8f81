package io.meshfed.controller.leader;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ReplicaRecord;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the other replicas of a shared store hold: each replica writes {@code Replica/<holder>} with the SPIFFE IDs
 * of its config streams every {@code ttl / 3}, and reads everyone's. A replica whose record has not changed for
 * {@code ttl}, timed on the reader's own clock, is gone: its streams no longer count. Records gone for ten lease
 * times are deleted by whoever sees them first. On a store only one process can hold there are no others, and
 * nothing is written.
 */
public final class ReplicaPresence implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaPresence.class);
    /** Streams one record lists at most (beyond it the record says what it can; the rest count only locally). */
    static final int MAX_STREAMS = 100_000;

    private final Store store;
    private final String holder;
    private final long ttlNanos;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService thread;
    private Supplier<Set<String>> localStreams = Set::of;
    /** Per other replica: the revision last seen and when; on the presence thread only. */
    private final Map<String, long[]> seen = new HashMap<>();
    /** The streams of the other replicas that are alive, as of the last round. */
    private volatile Set<String> elsewhere = Set.of();

    public ReplicaPresence(Store store, String holder, Duration ttl) {
        this(store, holder, ttl, System::nanoTime);
    }

    ReplicaPresence(Store store, String holder, Duration ttl, LongSupplier nanoTime) {
        this.store = requireNonNull(store, "store");
        this.holder = requireNonNull(holder, "holder");
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "replica-presence");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts publishing {@code streams} (the SPIFFE IDs of this replica's config streams) and reading the others'. */
    public void start(Supplier<Set<String>> streams) {
        this.localStreams = requireNonNull(streams, "streams");
        if (store.exclusive()) {
            return;
        }
        long every = Math.max(100, Duration.ofNanos(ttlNanos).toMillis() / 3);
        thread.scheduleWithFixedDelay(this::roundQuietly, 0, every, TimeUnit.MILLISECONDS);
    }

    /** Whether another live replica holds a config stream of {@code spiffeId}. */
    public boolean streamedElsewhere(String spiffeId) {
        return elsewhere.contains(spiffeId);
    }

    private void roundQuietly() {
        try {
            round();
        } catch (RuntimeException e) {
            LOG.warn("replica presence round failed, trying again: {}", e.toString());
        }
    }

    void round() {
        List<String> mine = new TreeSet<>(localStreams.get()).stream().limit(MAX_STREAMS).toList();
        store.transact(tx -> Records.put(tx, Kind.REPLICA, holder,
                new ReplicaRecord(holder, mine, System.currentTimeMillis()), StoreTransaction.ANY));
        long now = nanoTime.getAsLong();
        Set<String> alive = new HashSet<>();
        Set<String> present = new HashSet<>();
        for (Resource r : store.list(Kind.REPLICA.storeName())) {
            if (r.name().equals(holder)) {
                continue;
            }
            present.add(r.name());
            long[] last = seen.get(r.name());
            if (last == null || last[0] != r.revision()) {
                // First sight counts as alive: a replica that just restarted must not lose its agents.
                seen.put(r.name(), new long[] {r.revision(), now});
                last = seen.get(r.name());
            }
            long silent = now - last[1];
            if (silent < ttlNanos) {
                alive.addAll(Records.fromJson(r, ReplicaRecord.class).streams());
            } else if (silent >= 10 * ttlNanos) {
                forget(r);
            }
        }
        seen.keySet().retainAll(present);
        elsewhere = Set.copyOf(alive);
    }

    private void forget(Resource r) {
        try {
            store.delete(Kind.REPLICA.storeName(), r.name(), r.revision());
            LOG.info("removed the presence of controller replica {}: silent for ten lease times", r.name());
        } catch (ConflictException e) {
            // it came back, or another replica removed it
        }
    }

    /** For tests: stop writing and reading without removing anything, as a process that was paused or killed. */
    void suspend() {
        thread.shutdownNow();
    }

    /** Stops, and removes this replica's record: its streams end with it. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!store.exclusive()) {
            try {
                store.delete(Kind.REPLICA.storeName(), holder, StoreTransaction.ANY);
            } catch (RuntimeException e) {
                LOG.warn("could not remove this replica's presence (others stop counting it after a lease time): {}",
                        e.toString());
            }
        }
    }
}
