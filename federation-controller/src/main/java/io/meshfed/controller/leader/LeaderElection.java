package io.meshfed.controller.leader;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.store.StoreTransaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses one leader among the controller replicas of one store, as Kubernetes' leader election does with a Lease,
 * but in the store itself: the lease ({@code Lease/leader}) names its holder and an epoch. The holder renews it by
 * compare-and-set every {@code renewEvery}; a candidate that has seen the lease unchanged for {@code ttl}, timed on
 * its own monotonic clock (no two replicas' clocks are compared), takes it over by compare-and-set with the next
 * epoch. A holder that cannot renew for {@code ttl}, or finds another holder, has lost it: its leader-only components
 * follow at once, and their writes are fenced ({@link #fenced}) from the moment the lease moved. A store that no
 * other process can have open ({@link Store#exclusive()}, SQLite) has no rivals: its one handle leads from the
 * start and no lease is written or renewed. A replica that stops releases the lease, so its successor need not wait.
 */
public final class LeaderElection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
    public static final String NAME = "leader";
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(6);
    public static final Duration DEFAULT_RENEW_EVERY = Duration.ofSeconds(1);

    private final Store store;
    private final String holder;
    private final long ttlNanos;
    private final Duration renewEvery;
    private final LongSupplier nanoTime;
    private final List<LeaderOnly> components = new ArrayList<>();
    private final ScheduledExecutorService thread;
    private ScheduledFuture<?> ticking;
    /** The epoch this replica leads in, 0 while it follows; written on the election thread only. */
    private volatile long epoch;
    private long lastRenewedNanos;
    private long observedRevision = -1;
    private long observedAtNanos;

    public LeaderElection(Store store, String holder, Duration ttl, Duration renewEvery) {
        this(store, holder, ttl, renewEvery, System::nanoTime);
    }

    LeaderElection(Store store, String holder, Duration ttl, Duration renewEvery, LongSupplier nanoTime) {
        this.store = requireNonNull(store, "store");
        this.holder = requireNonNull(holder, "holder");
        this.ttlNanos = ttl.toNanos();
        this.renewEvery = requireNonNull(renewEvery, "renewEvery");
        this.nanoTime = nanoTime;
        if (renewEvery.compareTo(ttl.dividedBy(2)) > 0) {
            throw new IllegalArgumentException("renew at least twice per lease time: renewEvery " + renewEvery
                    + ", ttl " + ttl);
        }
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "leader-election");
            t.setDaemon(true);
            return t;
        });
    }

    /** This replica's name in the lease: host, process and a random part (a restarted process is a new holder). */
    public static String holderName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffffffL);
    }

    /** Adds a component that runs only while this replica leads (before {@link #start}). */
    public LeaderElection add(LeaderOnly component) {
        components.add(requireNonNull(component, "component"));
        return this;
    }

    /** The store through which leader-only components write: refused unless this replica leads. */
    public Store fenced() {
        return new FencedStore(store, this);
    }

    /**
     * Takes part: the first round before it returns (on an exclusive store this replica leads from then on, so the
     * first admin call finds its leader-only components running), then one every {@code renewEvery}.
     */
    public synchronized void start() {
        if (ticking == null) {
            try {
                thread.submit(this::tickQuietly).get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.warn("the first leader election round did not finish: {}", e.toString());
            }
            ticking = thread.scheduleWithFixedDelay(this::tickQuietly, renewEvery.toMillis(), renewEvery.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    public String holder() {
        return holder;
    }

    public boolean isLeader() {
        return epoch != 0;
    }

    /** The epoch this replica leads in, or 0. */
    public long epoch() {
        return epoch;
    }

    /** The lease as the store has it now. */
    public Optional<LeaseRecord> lease() {
        return Records.get(store, Kind.LEASE, NAME, LeaseRecord.class);
    }

    /** Inside a fenced transaction: this replica holds the lease at its epoch, or the transaction is refused. */
    void checkHeld(StoreReader tx) {
        long mine = epoch;
        if (mine != 0 && store.exclusive()) {
            return; // no other process can be writing
        }
        Optional<LeaseRecord> lease = Records.get(tx, Kind.LEASE, NAME, LeaseRecord.class);
        if (mine == 0 || lease.isEmpty() || !lease.get().holder().equals(holder) || lease.get().epoch() != mine) {
            throw new NotLeaderException("this controller replica (" + holder + ") is not the leader"
                    + lease.map(l -> ": the lease is " + l.holder() + "'s, epoch " + l.epoch()).orElse("")
                    + "; its leader-only write is refused");
        }
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOG.warn("leader election round failed, trying again in {} ms: {}", renewEvery.toMillis(), e.toString());
            if (isLeader() && nanoTime.getAsLong() - lastRenewedNanos >= ttlNanos) {
                lose("could not renew the lease for " + Duration.ofNanos(ttlNanos).toSeconds() + " s");
            }
        }
    }

    /** One round, on the election thread: renew if leading, else take the lease when it is free or stale. */
    void tick() {
        long now = nanoTime.getAsLong();
        if (store.exclusive()) {
            if (!isLeader()) {
                epoch = 1;
                lastRenewedNanos = now;
                startComponents("no other process can hold this store");
            }
            return;
        }
        Optional<Resource> current = store.get(Kind.LEASE.storeName(), NAME);
        Optional<LeaseRecord> lease = current.map(r -> Records.fromJson(r, LeaseRecord.class));
        if (isLeader()) {
            if (lease.isEmpty() || !lease.get().holder().equals(holder) || lease.get().epoch() != epoch) {
                lose(lease.map(l -> "the lease is now " + l.holder() + "'s, epoch " + l.epoch())
                        .orElse("the lease was removed"));
                return;
            }
            if (now - lastRenewedNanos >= ttlNanos) {
                lose("the last renewal is older than the lease time"); // e.g. this process was paused
                return;
            }
            try {
                write(current.get().revision(), epoch);
                lastRenewedNanos = now;
            } catch (ConflictException e) {
                lose("another replica changed the lease");
            }
            return;
        }
        if (current.isEmpty()) {
            tryTake(StoreTransaction.ABSENT, 1, now, "the lease was free");
            return;
        }
        long revision = current.get().revision();
        if (revision != observedRevision) {
            observedRevision = revision;
            observedAtNanos = now;
            return;
        }
        if (now - observedAtNanos >= ttlNanos) {
            tryTake(revision, lease.get().epoch() + 1, now, lease.get().holder() + " has not renewed it for "
                    + Duration.ofNanos(now - observedAtNanos).toMillis() + " ms");
        }
    }

    private void write(long expectedRevision, long epochToWrite) {
        store.transact(tx -> Records.put(tx, Kind.LEASE, NAME,
                new LeaseRecord(holder, epochToWrite, System.currentTimeMillis()), expectedRevision));
    }

    private void tryTake(long expectedRevision, long newEpoch, long now, String why) {
        try {
            write(expectedRevision, newEpoch);
        } catch (ConflictException e) {
            observedRevision = -1; // another candidate was quicker; watch the new holder
            return;
        }
        epoch = newEpoch;
        lastRenewedNanos = now;
        startComponents(why);
    }

    private void startComponents(String why) {
        LOG.info("this controller replica ({}) is the leader now, epoch {} ({}); starting {} leader-only"
                + " component(s)", holder, epoch, why, components.size());
        for (LeaderOnly c : components) {
            try {
                c.lead();
            } catch (RuntimeException e) {
                LOG.error("a leader-only component did not start: {}", e.toString());
            }
        }
    }

    private void lose(String why) {
        long lost = epoch;
        epoch = 0; // fenced from here on
        observedRevision = -1;
        LOG.warn("this controller replica ({}) lost the leader lease of epoch {}: {}; stopping its leader-only work",
                holder, lost, why);
        stopComponents();
    }

    private void stopComponents() {
        for (int i = components.size() - 1; i >= 0; i--) {
            try {
                components.get(i).follow();
            } catch (RuntimeException e) {
                LOG.warn("a leader-only component did not stop cleanly: {}", e.toString());
            }
        }
    }

    /** Stops taking part; a leader stops its components and releases the lease, so another takes it at once. */
    @Override
    public void close() {
        synchronized (this) {
            if (ticking != null) {
                ticking.cancel(false);
            }
        }
        try {
            thread.submit(() -> {
                if (isLeader()) {
                    long mine = epoch;
                    epoch = 0;
                    stopComponents();
                    if (store.exclusive()) {
                        return; // no lease to release
                    }
                    try {
                        store.transact(tx -> {
                            Optional<Resource> r = tx.get(Kind.LEASE.storeName(), NAME);
                            Optional<LeaseRecord> l = r.map(x -> Records.fromJson(x, LeaseRecord.class));
                            if (l.isPresent() && l.get().holder().equals(holder) && l.get().epoch() == mine) {
                                tx.delete(Kind.LEASE.storeName(), NAME, r.get().revision());
                            }
                            return null;
                        });
                        LOG.info("released the leader lease of epoch {}", mine);
                    } catch (RuntimeException e) {
                        LOG.warn("could not release the leader lease (it expires on its own): {}", e.toString());
                    }
                }
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("leader election did not stop cleanly: {}", e.toString());
        }
        thread.shutdownNow();
    }

    /** For tests: stop taking part without releasing anything, as a process that was paused or killed. */
    synchronized void suspend() {
        if (ticking != null) {
            ticking.cancel(false);
            ticking = null;
        }
    }
}
