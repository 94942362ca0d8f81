package io.meshfed.controller.rotation;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.util.Timestamps;
import io.meshfed.api.v1.AbortRotationRequest;
import io.meshfed.api.v1.RotateTrustDomainRequest;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.api.v1.TrustRotation;
import io.meshfed.api.v1.TrustRotationList;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.IdentityRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.RotationRecord;
import io.meshfed.controller.model.RotationRecord.Phase;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.BuiltinCertificateAuthority;
import io.meshfed.trust.ca.CaException;
import io.meshfed.trust.ca.CertificateAuthority;
import io.meshfed.trust.ca.ExternalCertificateAuthority;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zero-downtime root rotation of a member's trust domain, as a state machine in the store
 * ({@link RotationRecord}, Kind {@code Rotation}): add-root (both roots in the bundle, the old CA issues) → issue
 * (the new CA issues, subscribers renew toward its root) → completed (the old root dropped); abort returns by
 * aborting (the old CA issues again, subscribers renew back) → aborted (the new root dropped), or at once before the
 * new CA issued. Each step waits for its {@link RotationGate}; the driver checks every {@code tick} and moves a
 * rotation with a compare-and-set on its record, so a restart (or a second replica) resumes where the store says.
 */
public final class RootRotations implements AutoCloseable, io.meshfed.controller.leader.LeaderOnly {
    private static final Logger LOG = LoggerFactory.getLogger(RootRotations.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    /** What the gates read from the rest of the controller. */
    public record Sources(Supplier<List<SubscriberStatus>> subscribers, Supplier<Map<String, Long>> clusterBundles,
            Function<TrustDomain, Duration> longestLifetime) {}

    private final Store store;
    private final TrustState trust;
    private final FederationIdentity identity;
    private final Sources sources;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final Duration tick;
    /** The last verdict of each rotation in progress, for status. */
    private final Map<String, RotationGate.Verdict> verdicts = new ConcurrentHashMap<>();
    private ScheduledFuture<?> ticking;

    public RootRotations(Store store, TrustState trust, Sources sources, Clock clock, ScheduledExecutorService timer,
            Duration tick) {
        this.store = requireNonNull(store, "store");
        this.trust = requireNonNull(trust, "trust");
        this.identity = trust.identity();
        this.sources = requireNonNull(sources, "sources");
        this.clock = requireNonNull(clock, "clock");
        this.timer = requireNonNull(timer, "timer");
        this.tick = requireNonNull(tick, "tick");
    }

    @Override
    public void lead() {
        start();
    }

    /** This replica stopped leading: rotations wait for the next leader's checks. */
    @Override
    public synchronized void follow() {
        if (ticking != null) {
            ticking.cancel(false);
            ticking = null;
        }
    }

    public synchronized void start() {
        if (ticking != null) {
            return;
        }
        ticking = timer.scheduleWithFixedDelay(this::tickQuietly, tick.toMillis(), tick.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Starts a rotation: makes and checks the new CA, then stores the rotation in add-root with both roots. */
    public TrustRotation rotate(RotateTrustDomainRequest request) {
        TrustDomain td = trustDomain(request.getTrustDomain());
        // Only the leader replica rotates: through the fenced store an empty transaction refuses here, before a
        // new CA is made (on a single controller it always passes).
        store.transact(tx -> null);
        if (td.equals(identity.federationTrustDomain())) {
            throw new FailedPreconditionException("trust domain " + td.name() + " is the federation's own: join tokens"
                    + " and admins pin its root, so it is not rotated this way; rotate a member's trust domain");
        }
        if (TrustState.memberOf(store, td).isEmpty()) {
            throw new NotFoundException("trust domain " + td.name() + " is no member's; see meshfed members");
        }
        if (request.getSoakSeconds() < 0) {
            throw new InvalidArgumentException("soak must not be negative, not " + request.getSoakSeconds() + "s");
        }
        Optional<Resource> stored = store.get(Kind.ROTATION.storeName(), td.name());
        Optional<RotationRecord> previous = stored.map(r -> Records.fromJson(r, RotationRecord.class));
        previous.filter(p -> !p.phase().finished()).ifPresent(p -> {
            throw new FailedPreconditionException("a rotation of " + td.name() + " is in progress (phase "
                    + p.phase().label() + " since " + Instant.ofEpochMilli(p.phaseSinceMillis()) + "); see: meshfed"
                    + " trust rotation status, or: meshfed trust rotation abort " + td.name());
        });
        int from = previous.map(p -> p.phase() == Phase.COMPLETED ? p.toGeneration() : p.fromGeneration()).orElse(0);
        long number = previous.map(p -> p.number() + 1).orElse(1L);
        int to = Math.toIntExact(number);
        CertificateAuthority current = identity.ca(td, from);
        String fromBackend = identity.backendOf(td, from);
        if (!current.issues() || fromBackend.equals(ExternalCertificateAuthority.BACKEND)) {
            throw new FailedPreconditionException("trust domain " + td.name() + " has an external CA: its own mesh"
                    + " issues and rotates its roots; meshfed only serves its bundle");
        }
        String toBackend = request.getTo().getBackend().isEmpty() ? fromBackend : request.getTo().getBackend();
        Map<String, String> settings = request.getTo().getSettingsMap();
        if (toBackend.equals(ExternalCertificateAuthority.BACKEND)) {
            throw new InvalidArgumentException("--to external is no rotation: an external trust domain's CA is"
                    + " another mesh's; rotate to builtin, provided or vault");
        }
        if (request.getTo().getBackend().isEmpty() && !fromBackend.equals(BuiltinCertificateAuthority.BACKEND)) {
            throw new InvalidArgumentException("trust domain " + td.name() + " has a " + fromBackend + " CA: say"
                    + " which new CA to rotate to with --to " + fromBackend + " and its settings");
        }
        CertificateAuthority next;
        try {
            next = identity.createGeneration(td, to, toBackend, settings);
        } catch (CaException e) {
            throw new FailedPreconditionException("the new CA of " + td.name() + " cannot be used: " + e.getMessage(),
                    e);
        }
        String fromRoot = io.meshfed.trust.SvidCertificates.sha256Hex(current.rootCertificates().get(0));
        String toRoot = io.meshfed.trust.SvidCertificates.sha256Hex(next.rootCertificates().get(0));
        if (fromRoot.equals(toRoot)) {
            throw new FailedPreconditionException("the new CA of " + td.name() + " has the same root as the current"
                    + " one (SHA-256 " + fromRoot + "): a rotation needs a new root (another Vault mount, other"
                    + " provided files)");
        }
        long now = clock.millis();
        List<String> participants = connected();
        RotationRecord started = store.transact(tx -> {
            Optional<Resource> again = tx.get(Kind.ROTATION.storeName(), td.name());
            if (again.map(Resource::revision).orElse(0L) != stored.map(Resource::revision).orElse(0L)) {
                throw new FailedPreconditionException("another rotation of " + td.name() + " started meanwhile");
            }
            long version = TrustState.bumpBundleSetVersion(tx);
            RotationRecord r = new RotationRecord(td.name(), number, Phase.ADD_ROOT, from, to, fromBackend, toBackend,
                    now, now, version, Duration.ofSeconds(request.getSoakSeconds()).toMillis(), participants);
            Records.put(tx, Kind.ROTATION, td.name(), r, stored.map(Resource::revision)
                    .orElse(StoreTransaction.ABSENT));
            return r;
        });
        AUDIT.info("rotation {} of {} started: {} (root {}) to {} (root {}), soak {}s", number, td.name(),
                fromBackend, fromRoot, toBackend, toRoot, request.getSoakSeconds());
        return describe(started);
    }

    /** Aborts the rotation of the request's trust domain, or of the only one in progress. */
    public TrustRotation abort(AbortRotationRequest request) {
        List<RotationRecord> running = records().stream().filter(r -> !r.phase().finished()).toList();
        RotationRecord r;
        if (request.getTrustDomain().isEmpty()) {
            if (running.size() != 1) {
                throw new FailedPreconditionException(running.isEmpty() ? "no rotation is in progress"
                        : running.size() + " rotations are in progress (" + running.stream()
                                .map(RotationRecord::trustDomain).collect(Collectors.joining(", "))
                                + "); name the trust domain to abort");
            }
            r = running.get(0);
        } else {
            TrustDomain td = trustDomain(request.getTrustDomain());
            r = running.stream().filter(x -> x.trustDomain().equals(td.name())).findFirst()
                    .orElseThrow(() -> new FailedPreconditionException("no rotation of " + td.name()
                            + " is in progress"));
        }
        if (r.phase() == Phase.ABORTING) {
            return describe(r);
        }
        Phase next = r.phase() == Phase.ADD_ROOT ? Phase.ABORTED : Phase.ABORTING;
        RotationRecord moved = move(r, next).orElseThrow(() -> new FailedPreconditionException("the rotation of "
                + r.trustDomain() + " moved meanwhile; see: meshfed trust rotation status"));
        AUDIT.info("rotation {} of {} aborted in phase {}", r.number(), r.trustDomain(), r.phase().label());
        return describe(moved);
    }

    public TrustRotationList list() {
        return TrustRotationList.newBuilder().addAllRotations(records().stream()
                .sorted(Comparator.comparing(RotationRecord::trustDomain)).map(this::describe).toList()).build();
    }

    /** The rotations in progress, for the controller's status. */
    public List<TrustRotation> inProgress() {
        return list().getRotationsList().stream().filter(r -> !Phase.COMPLETED.label().equals(r.getPhase())
                && !Phase.ABORTED.label().equals(r.getPhase())).toList();
    }

    private List<RotationRecord> records() {
        return Records.list(store, Kind.ROTATION, RotationRecord.class);
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (RuntimeException e) {
            LOG.warn("root rotation check failed, trying again in {} ms: {}", tick.toMillis(), e.toString());
        }
    }

    /** Checks every rotation in progress once; moves those whose gate is open. */
    void tick() {
        List<RotationRecord> running = records().stream().filter(r -> !r.phase().finished()).toList();
        verdicts.keySet().retainAll(running.stream().map(RotationRecord::trustDomain).collect(Collectors.toSet()));
        if (running.isEmpty()) {
            return;
        }
        List<SubscriberStatus> subscribers = sources.subscribers().get();
        Map<String, Long> clusters = sources.clusterBundles().get();
        Set<String> revoked = Records.list(store, Kind.IDENTITY, IdentityRecord.class).stream()
                .filter(IdentityRecord::revoked).map(IdentityRecord::spiffeId).collect(Collectors.toSet());
        for (RotationRecord r : running) {
            r = remember(r, subscribers);
            TrustDomain td = TrustDomain.parse(r.trustDomain());
            String target = r.renewToward()
                    .map(g -> io.meshfed.trust.SvidCertificates.sha256Hex(identity.ca(td, g).rootCertificates().get(0)))
                    .orElse("");
            RotationGate.Verdict verdict = RotationGate.evaluate(r, new RotationGate.Inputs(subscribers, clusters,
                    revoked, target, sources.longestLifetime().apply(td), clock.instant()));
            verdicts.put(r.trustDomain(), verdict);
            if (verdict.open()) {
                Phase next = switch (r.phase()) {
                    case ADD_ROOT -> Phase.ISSUE;
                    case ISSUE -> Phase.COMPLETED;
                    case ABORTING -> Phase.ABORTED;
                    default -> throw new IllegalStateException(r.phase().name());
                };
                RotationRecord from = r;
                move(r, next).ifPresent(m -> AUDIT.info("rotation {} of {}: {} -> {}", from.number(),
                        from.trustDomain(), from.phase().label(), next.label()));
            }
        }
    }

    /** Adds the subscribers connected now to the rotation's participants (written only when there are new ones). */
    private RotationRecord remember(RotationRecord r, List<SubscriberStatus> subscribers) {
        Set<String> all = new java.util.TreeSet<>(r.participants());
        subscribers.forEach(s -> all.add(s.getSpiffeId()));
        if (all.size() == r.participants().size()) {
            return r;
        }
        RotationRecord wider = r.withParticipants(all);
        return store.transact(tx -> {
            Optional<RotationRecord> now = Records.get(tx, Kind.ROTATION, r.trustDomain(), RotationRecord.class);
            if (now.isEmpty() || !now.get().equals(r)) {
                return now.orElse(r); // it moved meanwhile; the next tick sees it
            }
            Records.put(tx, Kind.ROTATION, r.trustDomain(), wider, StoreTransaction.ANY);
            return wider;
        });
    }

    /** Moves a rotation to {@code next} if its record is still {@code r}; bumps the bundle version if roots change. */
    private Optional<RotationRecord> move(RotationRecord r, Phase next) {
        return store.transact(tx -> {
            Optional<Resource> res = tx.get(Kind.ROTATION.storeName(), r.trustDomain());
            if (res.isEmpty() || !Records.fromJson(res.get(), RotationRecord.class).equals(r)) {
                return Optional.<RotationRecord>empty();
            }
            boolean rootsChange = !r.to(next, 0, 0).bundleGenerations().equals(r.bundleGenerations());
            long version = rootsChange ? TrustState.bumpBundleSetVersion(tx) : r.bundleVersion();
            RotationRecord moved = r.to(next, clock.millis(), version);
            Records.put(tx, Kind.ROTATION, r.trustDomain(), moved, res.get().revision());
            return Optional.of(moved);
        });
    }

    private List<String> connected() {
        return sources.subscribers().get().stream().map(SubscriberStatus::getSpiffeId).distinct().sorted().toList();
    }

    private TrustRotation describe(RotationRecord r) {
        TrustDomain td = TrustDomain.parse(r.trustDomain());
        TrustRotation.Builder b = TrustRotation.newBuilder().setTrustDomain(r.trustDomain()).setNumber(r.number())
                .setPhase(r.phase().label()).setFromBackend(r.fromBackend()).setToBackend(r.toBackend())
                .setStartedAt(Timestamps.fromMillis(r.startedAtMillis()))
                .setPhaseSince(Timestamps.fromMillis(r.phaseSinceMillis()))
                .setFromRootSha256(rootSha(td, r.fromGeneration())).setToRootSha256(rootSha(td, r.toGeneration()));
        RotationGate.Verdict v = r.phase().finished() ? null : verdicts.get(r.trustDomain());
        if (v != null) {
            b.addAllWaitingFor(v.waitingFor());
            v.deadline().ifPresent(d -> b.setDeadline(Timestamps.fromMillis(d.toEpochMilli())));
        }
        return b.build();
    }

    private String rootSha(TrustDomain td, int generation) {
        try {
            return io.meshfed.trust.SvidCertificates.sha256Hex(identity.ca(td, generation).rootCertificates().get(0));
        } catch (RuntimeException e) {
            return ""; // an aborted generation's CA that no longer opens (a Vault mount removed) names no root
        }
    }


    private static TrustDomain trustDomain(String name) {
        if (name.isEmpty()) {
            throw new InvalidArgumentException("a trust domain is needed");
        }
        try {
            return TrustDomain.parse(name);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("trust domain '" + name + "': " + e.getMessage(), e);
        }
    }


    @Override
    public synchronized void close() {
        if (ticking != null) {
            ticking.cancel(false);
        }
    }
}
