package io.meshfed.controller.federation;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.FederationRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each federation's bundle fresh: fetches at the bundle's refresh hint (default {@link #DEFAULT_REFRESH},
 * bounded to [{@link #MIN_REFRESH}, {@link #MAX_REFRESH}] so an endpoint can neither make the controller hammer it
 * nor go unread for long), retries a failure after at most {@link #RETRY}. Every outcome is written to the
 * federation's record: a good bundle replaces the last one (and bumps the bundle-set version in the same transaction
 * when its content changed, so every subscriber gets the new set); a failure (unreachable, timeout, TLS, garbage, a
 * bundle whose {@code spiffe_sequence} is lower than the one in use) keeps the last good bundle and records why.
 *
 * <p>Fetches and their writes run one at a time on the {@code federation-refresh} thread; timers only hand work to
 * it; the schedule is touched only there.
 */
public final class FederationRefresher implements AutoCloseable, io.meshfed.controller.leader.LeaderOnly {
    private static final Logger LOG = LoggerFactory.getLogger(FederationRefresher.class);
    public static final Duration DEFAULT_REFRESH = Duration.ofMinutes(5);
    public static final Duration MIN_REFRESH = Duration.ofSeconds(10);
    public static final Duration MAX_REFRESH = Duration.ofHours(24);
    public static final Duration RETRY = Duration.ofSeconds(30);
    /** The longest error text kept and logged: part of it may come from the endpoint. */
    static final int MAX_ERROR = 512;

    private final Store store;
    private final BundleFetcher fetcher;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "federation-refresh");
        t.setDaemon(true);
        return t;
    });
    /** Pending fetch per trust domain; only on {@link #executor}. */
    private final Map<String, ScheduledFuture<?>> scheduled = new HashMap<>();
    private volatile Store.Watch watch; // set while this replica leads

    public FederationRefresher(Store store, BundleFetcher fetcher, Clock clock, ScheduledExecutorService timer) {
        this.store = requireNonNull(store, "store");
        this.fetcher = requireNonNull(fetcher, "fetcher");
        this.clock = requireNonNull(clock, "clock");
        this.timer = requireNonNull(timer, "timer");
    }

    @Override
    public void lead() {
        start();
    }

    /** This replica stopped leading: no more fetches here until it leads again. */
    @Override
    public synchronized void follow() {
        if (watch == null) {
            return;
        }
        watch.close();
        watch = null;
        try {
            executor.submit(() -> {
                scheduled.values().forEach(f -> f.cancel(false));
                scheduled.clear();
            }).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("federation refreshes did not all stop: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Schedules every stored federation (at its stored next refresh) and follows the store's changes. */
    public synchronized void start() {
        if (watch != null) {
            return;
        }
        watch = store.watch(store.revision(), change -> {
            if (change.kind().equals(Kind.FEDERATION.storeName())) {
                executor.execute(this::reconcile);
            }
        });
        executor.execute(this::reconcile);
    }

    /**
     * Fetches the federation's bundle now, on the refresh thread, and returns the record as written; empty on a
     * replica that does not lead (the leader fetches it, a retry's delay after it was stored).
     */
    public Optional<FederationRecord> refreshNow(String trustDomain) {
        if (watch == null) {
            return Optional.empty();
        }
        Future<Optional<FederationRecord>> done = executor.submit(() -> refresh(trustDomain));
        try {
            return done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching the bundle of " + trustDomain, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r
                    : new IllegalStateException(e.getCause().toString(), e.getCause());
        }
    }

    private void reconcile() {
        Set<String> present = new HashSet<>();
        for (FederationRecord f : Records.list(store, Kind.FEDERATION, FederationRecord.class)) {
            present.add(f.trustDomain());
            if (!scheduled.containsKey(f.trustDomain())) {
                long delay = Math.max(0, f.nextRefreshMillis() - clock.millis());
                schedule(f.trustDomain(), Duration.ofMillis(delay));
            }
        }
        scheduled.keySet().removeIf(td -> {
            if (!present.contains(td)) {
                scheduled.get(td).cancel(false);
                return true;
            }
            return false;
        });
    }

    private void schedule(String trustDomain, Duration delay) {
        ScheduledFuture<?> previous = scheduled.put(trustDomain, timer.schedule(
                () -> executor.execute(() -> refresh(trustDomain)), delay.toMillis(), TimeUnit.MILLISECONDS));
        if (previous != null) {
            previous.cancel(false);
        }
    }

    /** One fetch and its write; on the refresh thread. */
    private Optional<FederationRecord> refresh(String trustDomain) {
        Optional<Resource> stored = store.get(Kind.FEDERATION.storeName(), trustDomain);
        if (stored.isEmpty()) {
            ScheduledFuture<?> pending = scheduled.remove(trustDomain);
            if (pending != null) {
                pending.cancel(false);
            }
            return Optional.empty();
        }
        FederationRecord federation = Records.fromJson(stored.get(), FederationRecord.class);
        Optional<TrustBundle> lastGood = lastGood(federation);
        long now = clock.millis();
        TrustBundle fetched = null;
        String error = null;
        try {
            TrustBundle got = fetcher.fetch(federation, lastGood);
            fetched = got;
            if (lastGood.isPresent() && got.sequenceNumber() < lastGood.get().sequenceNumber()) {
                long held = lastGood.get().sequenceNumber();
                error = "spiffe_sequence went backwards: the endpoint served " + got.sequenceNumber() + " after "
                        + held + "; the bundle of sequence " + held + " stays in use";
            }
        } catch (BundleFetcher.FetchException e) {
            error = e.getMessage();
        } catch (RuntimeException e) {
            LOG.warn("fetching the bundle of {} failed", trustDomain, e);
            error = "internal error: " + e;
        }
        if (error != null && error.length() > MAX_ERROR) {
            error = error.substring(0, MAX_ERROR) + "… (cut at " + MAX_ERROR + " characters)"; // the endpoint's words
        }
        Duration next = error == null ? bounded(fetched.refreshHint().orElse(DEFAULT_REFRESH))
                : min(RETRY, bounded(lastGood.flatMap(TrustBundle::refreshHint).orElse(DEFAULT_REFRESH)));
        FederationRecord written = write(federation, stored.get().revision(), fetched, error, lastGood, now,
                now + next.toMillis());
        if (error != null) {
            LOG.warn("federated trust domain {}: bundle endpoint {}: {}; the last good bundle stays", trustDomain,
                    federation.bundleEndpoint(), error);
        }
        schedule(trustDomain, next);
        return Optional.ofNullable(written);
    }

    private FederationRecord write(FederationRecord federation, long revision, TrustBundle fetched, String error,
            Optional<TrustBundle> lastGood, long now, long next) {
        boolean changed = error == null && (lastGood.isEmpty() || !lastGood.get().sameContentAs(fetched));
        FederationRecord updated = error == null
                ? federation.fetched(SpiffeBundleJson.encode(fetched), fetched.sequenceNumber(), now, next)
                : federation.failed(error, now, next);
        try {
            return store.transact(tx -> {
                Optional<Resource> current = tx.get(Kind.FEDERATION.storeName(), federation.trustDomain());
                if (current.isEmpty() || current.get().revision() != revision) {
                    return null; // deleted or changed by the admin meanwhile: that change schedules its own fetch
                }
                Records.put(tx, Kind.FEDERATION, federation.trustDomain(), updated, revision);
                if (changed) {
                    TrustState.bumpBundleSetVersion(tx);
                }
                return updated;
            });
        } catch (RuntimeException e) {
            LOG.warn("cannot record the fetch of {}'s bundle: {}", federation.trustDomain(), e.toString());
            return null;
        }
    }

    static Optional<TrustBundle> lastGood(FederationRecord federation) {
        if (federation.bundleJson() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(SpiffeBundleJson.decodeFederated(TrustDomain.parse(federation.trustDomain()),
                    federation.bundleJson()));
        } catch (TrustFormatException e) {
            return Optional.empty();
        }
    }

    private static Duration bounded(Duration hint) {
        return hint.compareTo(MIN_REFRESH) < 0 ? MIN_REFRESH : hint.compareTo(MAX_REFRESH) > 0 ? MAX_REFRESH : hint;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        executor.submit(() -> scheduled.values().forEach(f -> f.cancel(false)));
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
