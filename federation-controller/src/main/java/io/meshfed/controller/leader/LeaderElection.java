package io.meshfed.controller.leader;

import io.meshfed.controller.model.Kind;
import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.text.ReportedText;
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
 * Chooses one leader among the controller replicas of one store, as Kubernetes' leader election does with a Lease:
 * the lease ({@link LeaderLease}: the store's {@code Lease/leader} record, or a Kubernetes Lease) names its holder
 * and an epoch. The holder renews it by compare-and-set every {@code renewEvery}; a candidate that has seen the
 * lease unchanged for {@code ttl}, timed on its own monotonic clock (no two replicas' clocks are compared), takes it
 * over by compare-and-set with a higher epoch. A holder that cannot renew for {@code ttl}, or finds another holder,
 * has lost it: its leader-only components follow at once, and their writes are fenced ({@link #fenced}) by the
 * store's {@code Lease/leader} record, whichever lease elected the leader, from the moment the lease moved. A store
 * that no other process can have open ({@link Store#exclusive()}, SQLite) has no rivals: its one handle leads from
 * the start and no lease is written or renewed. A replica that stops releases the lease, so its successor need not
 * wait.
 */
public final class LeaderElection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
    public static final String NAME = "leader";
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(6);
    public static final Duration DEFAULT_RENEW_EVERY = Duration.ofSeconds(1);

    private final Store store;
    private final LeaderLease lease;
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
    private String observedVersion;
    private long observedAtNanos;

    /** An election with the lease in the store itself. */
    public LeaderElection(Store store, String holder, Duration ttl, Duration renewEvery) {
        this(store, new StoreLeaderLease(store), holder, ttl, renewEvery, System::nanoTime);
    }

    /** An election on {@code lease} (which it closes), its leader-only writes fenced in {@code store}. */
    public LeaderElection(Store store, LeaderLease lease, String holder, Duration ttl, Duration renewEvery) {
        this(store, lease, holder, ttl, renewEvery, System::nanoTime);
    }

    LeaderElection(Store store, LeaderLease lease, String holder, Duration ttl, Duration renewEvery,
            LongSupplier nanoTime) {
        this.store = requireNonNull(store, "store");
        this.lease = requireNonNull(lease, "lease");
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

    /** The fencing record as the store has it now: who leads, and in which epoch; empty when nobody does. */
    public Optional<LeaseRecord> lease() {
        return FenceRecord.read(store).filter(l -> !l.holder().isEmpty());
    }

    /** Where the lease lives. */
    public String leaseLocation() {
        return lease.describe();
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
                    + lease.map(l -> ": the lease is " + printable(l.holder()) + "'s, epoch " + l.epoch()).orElse("")
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
        Optional<LeaderLease.State> current = lease.read();
        if (isLeader()) {
            if (current.isEmpty() || !current.get().heldBy(holder, epoch)) {
                lose(current.filter(l -> !l.free()).map(l -> "the lease is now " + printable(l.holder())
                        + "'s, epoch " + l.epoch()).orElse("the lease was removed"));
                return;
            }
            if (now - lastRenewedNanos >= ttlNanos) {
                lose("the last renewal is older than the lease time"); // e.g. this process was paused
                return;
            }
            if (lease.renew(current.get(), holder, epoch)) {
                lastRenewedNanos = now;
            } else {
                lose("another replica changed the lease or its fencing record");
            }
            return;
        }
        if (current.isEmpty() || current.get().free()) {
            tryTake(current, now, current.isEmpty() ? "the lease was free" : "the lease was released");
            return;
        }
        String version = current.get().version();
        if (!version.equals(observedVersion)) {
            observedVersion = version;
            observedAtNanos = now;
            return;
        }
        if (now - observedAtNanos >= ttlNanos) {
            tryTake(current, now, printable(current.get().holder()) + " has not renewed it for "
                    + Duration.ofNanos(now - observedAtNanos).toMillis() + " ms");
        }
    }

    private void tryTake(Optional<LeaderLease.State> seen, long now, String why) {
        long won = lease.take(seen, holder);
        if (won == 0) {
            observedVersion = null; // another candidate was quicker; watch the new holder
            return;
        }
        epoch = won;
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
        observedVersion = null;
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
                        lease.release(holder, mine);
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
        lease.close();
    }

    /** For tests: stop taking part without releasing anything, as a process that was paused or killed. */
    synchronized void suspend() {
        if (ticking != null) {
            ticking.cancel(false);
            ticking = null;
        }
    }

    /**
     * A holder as read from the lease, fit for a log line or an admin's error: at most 128 characters, anything but
     * printable ASCII as '?' (a Kubernetes Lease can be written by whoever holds its token).
     */
    static String printable(String holder) {
        return ReportedText.ascii(holder, 128) + (holder.length() > 128 ? "…" : "");
    }
}
