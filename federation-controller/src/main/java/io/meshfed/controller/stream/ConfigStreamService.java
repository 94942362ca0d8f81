package io.meshfed.controller.stream;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.catalog.SnapshotAudience;
import io.meshfed.controller.catalog.SnapshotBuilder;
import io.meshfed.controller.identity.RevokedIdentities;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.server.PeerIdentity;
import io.meshfed.controller.store.Store;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config streams. Each subscriber receives the snapshot of its member and network; a store change is pushed,
 * debounced, to every subscriber whose snapshot changed; a subscriber that holds the current version gets nothing.
 * All subscriber state is changed on one serial executor ({@code loop}, thread {@code config-stream}); gRPC callbacks
 * only hand work to it. The loop does bookkeeping and sends only: reading the store into a catalog view and building
 * snapshots from it run on the {@code storeReads} worker, whose result is handed back to the loop. Every snapshot
 * carries the store revision of the view it was built from, and a subscriber is never sent one older than what it
 * was offered before. A subscriber that cannot keep up gets the newest version when it is ready again, never a
 * backlog.
 */
public final class ConfigStreamService implements io.grpc.BindableService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigStreamService.class);
    /** After this many deltas a stream could not apply, it is sent whole snapshots only. */
    static final int MAX_DELTA_MISMATCHES = 3;

    private final Store store;
    private final TrustState trust;
    private final ControllerMetrics metrics;
    private final Clock clock;
    private final Duration debounce;
    private final SerialExecutor loop;
    private final Executor storeReads;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong nonces = new AtomicLong();
    // Everything below is confined to `loop`.
    private final Map<Long, Subscriber> subscribers = new LinkedHashMap<>();
    /** The snapshots built from {@code view}, by {@link #key}. */
    private Map<String, PreparedSnapshot> snapshotCache = new HashMap<>();
    /**
     * The snapshots of the view before {@code view}, by key: the base of most subscribers' next delta, found here
     * whatever the history's byte bound (at 100,000 endpoints a few keys' snapshots are over it).
     */
    private Map<String, PreparedSnapshot> previousSnapshots = new HashMap<>();
    /** Keys whose snapshot is being built on the worker, with the revision of the view it is built from. */
    private final Map<String, Long> building = new HashMap<>();
    private final List<java.util.function.Consumer<CatalogView>> viewListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private CatalogView view;
    private SerialExecutor.Scheduled pendingRefresh;
    /** A view is being read on the worker; a change meanwhile reads again once it is back. */
    private boolean loading;
    private boolean changedWhileLoading;
    private final Store.Watch watch;
    private final SnapshotDeltas deltas;

    private final io.meshfed.controller.catalog.AgentLeases leases;
    private final int streamsPerIdentity;
    private final RevokedIdentities revoked;
    /** Open streams per SPIFFE ID: taken on the gRPC thread when a stream opens, given back when it closes. */
    private final java.util.concurrent.ConcurrentHashMap<String, Integer> openStreams =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param timer times the push debounce and the agents' grace periods (a fake one in tests)
     * @param storeReads where the store is read and snapshots are built, off the loop
     * @param streamsPerIdentity how many streams one SPIFFE ID may hold open at once; one more is refused
     * @param revoked identities whose streams are closed when they are revoked, and refused afterwards
     */
    public ConfigStreamService(Store store, TrustState trust, ControllerMetrics metrics, Clock clock,
            ScheduledExecutorService timer, Executor storeReads, Duration debounce, Duration agentGracePeriod,
            int streamsPerIdentity, RevokedIdentities revoked,
            java.util.function.Predicate<String> streamedElsewhere) {
        this.streamsPerIdentity = streamsPerIdentity;
        this.revoked = requireNonNull(revoked, "revoked");
        this.store = requireNonNull(store, "store");
        this.trust = requireNonNull(trust, "trust");
        this.metrics = requireNonNull(metrics, "metrics");
        this.clock = requireNonNull(clock, "clock");
        this.debounce = requireNonNull(debounce, "debounce");
        this.storeReads = requireNonNull(storeReads, "storeReads");
        this.loop = SerialExecutor.start("config-stream", timer);
        this.deltas = new SnapshotDeltas(storeReads, this::submit, this::flushAll);
        this.view = CatalogView.load(store, trust); // at start, before any stream
        this.watch = store.watch(view.revision(), change -> {
            if (!change.kind().equals(io.meshfed.controller.model.Kind.LEASE.storeName()) // renewed every second
                    && !change.kind().equals(io.meshfed.controller.model.Kind.REPLICA.storeName())
                    && !change.kind().equals(io.meshfed.controller.model.Kind.CONNECTOR_STATUS.storeName())) {
                submit(this::scheduleRefresh);
            }
        });
        metrics.gauge("meshfed.subscribers", "Config stream subscribers connected", this::subscriberCount);
        // An agent is connected while it holds a stream slot (the map is thread-safe; the leases have their own
        // executor).
        this.leases = new io.meshfed.controller.catalog.AgentLeases(store, timer, agentGracePeriod,
                id -> openStreams.containsKey(id) || streamedElsewhere.test(id)); // leads (and starts) with the leader
        revoked.onRevoked(id -> submit(() -> closeRevoked(id)));
    }

    /** One connected stream. */
    private final class Subscriber {
        final long id = ids.incrementAndGet();
        final SpiffeId spiffeId;
        final MemberRecord member;
        final ServerCallStreamObserver<PreparedSnapshot.Push> out;
        final Instant connectedSince = clock.instant();
        boolean subscribed;
        String heldVersion = "";
        String sentVersion = "";
        String sentNonce = "";
        Instant sentAt;
        String ackedVersion = "";
        String lastError = "";
        /** An edge gateway's: the routes its latest NACK named; empty once it ACKs. */
        List<io.meshfed.api.v1.RejectedRoute> rejectedRoutes = List.of();
        /** Bundle set versions of the latest snapshot sent and of the latest ACKed (0: unknown). */
        long sentBundleVersion;
        long ackedBundleVersion;
        /** The SVID the subscriber last reported, null until it does. */
        SvidReports.Reported svid;
        /** It asked for deltas (Subscribe.deltas). */
        boolean takesDeltas;
        /**
         * The version it holds once it applied what it was sent last: the base of the next delta, found again among
         * the current and remembered snapshots of its key (a version, not the snapshot, so that a slow subscriber
         * pins no memory); empty when the next push is whole (first push, after a NACK).
         */
        String baseVersion = "";
        /** The latest push was a delta. */
        boolean sentDelta;
        /** NACKs of deltas it could not apply; at {@link #MAX_DELTA_MISMATCHES} it is sent whole snapshots only. */
        int deltaMismatches;
        long deltaPushes;
        long wholePushes;
        PreparedSnapshot pending;
        /** The store revision of the newest snapshot offered (pending or sent); an older one is never sent. */
        long offeredRevision = -1;
        boolean closed;

        Subscriber(SpiffeId spiffeId, MemberRecord member, ServerCallStreamObserver<PreparedSnapshot.Push> out) {
            this.spiffeId = spiffeId;
            this.member = member;
            this.out = out;
        }

        String latestVersion() {
            return sentVersion.isEmpty() ? heldVersion : sentVersion;
        }

        void offer(PreparedSnapshot snapshot, long revision) {
            loop.checkInContext();
            if (closed || !subscribed || revision < offeredRevision) {
                return;
            }
            offeredRevision = revision;
            if (snapshot.version().equals(latestVersion())) {
                if (sentVersion.isEmpty() && heldVersion.equals(ackedVersion)) {
                    ackedBundleVersion = snapshot.bundleVersion(); // it holds (and applied) this very snapshot
                }
                pending = null;
                return;
            }
            pending = snapshot;
            flush();
        }

        void flush() {
            loop.checkInContext();
            if (closed || pending == null || !out.isReady()) {
                return;
            }
            PreparedSnapshot target = pending;
            // A slow subscriber's delta spans every change since its base: coalesced, never a backlog. One so far
            // behind that its base is no longer remembered gets the whole snapshot.
            PreparedSnapshot base = takesDeltas ? snapshotOf(key(this), baseVersion) : null;
            PreparedSnapshot content = base != null ? deltas.message(base, target) : target;
            if (content == null) {
                return; // the delta is being made on the worker; flushAll runs once it is
            }
            String nonce = Long.toString(nonces.incrementAndGet(), 36);
            PreparedSnapshot.Push message = PreparedSnapshot.Push.of(content, nonce, spiffeId.toString());
            sentVersion = target.version();
            sentBundleVersion = target.bundleVersion();
            sentDelta = content != target;
            if (sentDelta) {
                deltaPushes++;
            } else {
                wholePushes++;
            }
            baseVersion = takesDeltas ? target.version() : "";
            pending = null;
            sentNonce = nonce;
            sentAt = clock.instant();
            try {
                out.onNext(message);
                metrics.pushed(sentDelta ? "delta" : "whole", content.bytes().length);
            } catch (RuntimeException e) {
                close();
            }
        }

        SnapshotAudience audience() {
            return SnapshotAudience.of(spiffeId);
        }

        void close() {
            loop.checkInContext();
            if (closed) {
                return;
            }
            closed = true;
            subscribers.remove(id);
            openStreams.computeIfPresent(spiffeId.toString(), (k, n) -> n <= 1 ? null : n - 1);
            if (MeshfedIds.hasRole(spiffeId, MeshfedIds.Role.AGENT)) {
                leases.disconnected(spiffeId.toString());
            }
        }
    }

    /** StreamConfig with the prepared-snapshot marshaller; the wire format is the generated one. */
    @Override
    public io.grpc.ServerServiceDefinition bindService() {
        io.grpc.MethodDescriptor<ConfigRequest, PreparedSnapshot.Push> method = ConfigServiceGrpc
                .getStreamConfigMethod().toBuilder(io.grpc.protobuf.ProtoUtils.marshaller(
                        ConfigRequest.getDefaultInstance()), new PreparedSnapshot.Marshaller()).build();
        return io.grpc.ServerServiceDefinition.builder(ConfigServiceGrpc.SERVICE_NAME)
                .addMethod(method, io.grpc.stub.ServerCalls.asyncBidiStreamingCall(this::streamConfig))
                .build();
    }

    StreamObserver<ConfigRequest> streamConfig(StreamObserver<PreparedSnapshot.Push> responseObserver) {
        ServerCallStreamObserver<PreparedSnapshot.Push> out =
                (ServerCallStreamObserver<PreparedSnapshot.Push>) responseObserver;
        SpiffeId peer = PeerIdentity.required();
        Optional<MemberRecord> member = TrustState.memberOf(store, peer.trustDomain());
        if (member.isEmpty()) {
            out.onError(Status.PERMISSION_DENIED.withDescription(peer + " belongs to no member").asRuntimeException());
            return new DiscardingObserver();
        }
        if (!takeStreamSlot(peer)) {
            metrics.refused("config_stream", "stream_limit");
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription(peer + " has " + streamsPerIdentity + " config"
                    + " streams open, the most one identity may hold (configStreamsPerIdentity); close one first")
                    .asRuntimeException());
            return new DiscardingObserver();
        }
        Subscriber subscriber = new Subscriber(peer, member.get(), out);
        out.setOnReadyHandler(() -> submit(subscriber::flush));
        out.setOnCancelHandler(() -> submit(subscriber::close));
        submit(() -> admit(subscriber));
        return new StreamObserver<>() {
            @Override
            public void onNext(ConfigRequest request) {
                submit(() -> handle(subscriber, request));
            }

            @Override
            public void onError(Throwable t) {
                submit(subscriber::close);
            }

            @Override
            public void onCompleted() {
                submit(() -> {
                    subscriber.close();
                    out.onCompleted();
                });
            }
        };
    }

    /** The SPIFFE IDs with a config stream on this replica now. */
    public java.util.Set<String> streamIdentities() {
        return java.util.Set.copyOf(openStreams.keySet());
    }

    /** The agents' leases (their grace periods), for status and tests. */
    public io.meshfed.controller.catalog.AgentLeases agentLeases() {
        return leases;
    }

    /**
     * An agent's workloads were recorded: if it holds no config stream, its lease starts now (a reporter that never
     * opens a stream does not keep its workloads healthy).
     */
    public void workloadsReported(SpiffeId agent) {
        submit(() -> leases.reported(agent.toString()));
    }

    private boolean takeStreamSlot(SpiffeId peer) {
        boolean[] taken = {false};
        openStreams.compute(peer.toString(), (k, n) -> {
            int open = n == null ? 0 : n;
            if (open >= streamsPerIdentity) {
                return n;
            }
            taken[0] = true;
            return open + 1;
        });
        return taken[0];
    }

    /**
     * Adds a new stream, unless it was cancelled already or its identity was revoked since the call was let in (the
     * revocation's own closing ran before this, so the stream is refused here instead).
     */
    private void admit(Subscriber s) {
        loop.checkInContext();
        if (s.closed) {
            return;
        }
        Optional<Status> refusal = revoked.refusal(s.spiffeId).map(Status.PERMISSION_DENIED::withDescription);
        if (refusal.isPresent()) {
            s.close();
            metrics.refused("config_stream", "revoked");
            s.out.onError(refusal.get().asRuntimeException());
            return;
        }
        subscribers.put(s.id, s);
    }

    /** Closes every stream of a revoked identity with PERMISSION_DENIED. */
    private void closeRevoked(String spiffeId) {
        loop.checkInContext();
        for (Subscriber s : List.copyOf(subscribers.values())) {
            if (!s.spiffeId.toString().equals(spiffeId)) {
                continue;
            }
            s.close();
            try {
                s.out.onError(Status.PERMISSION_DENIED.withDescription(revoked.refusal(s.spiffeId)
                        .orElse(spiffeId + " was revoked")).asRuntimeException());
            } catch (RuntimeException ignored) {
                // stream already gone
            }
            LOG.info("closed the config stream of revoked identity {}", spiffeId);
        }
    }

    /** Hands work to the stream thread; after shutdown began, callbacks of closing streams are dropped. */
    private void submit(Runnable task) {
        loop.executeIfRunning(task); // after shutdown began the stream is being closed anyway
    }

    private void handle(Subscriber s, ConfigRequest request) {
        loop.checkInContext();
        switch (request.getKindCase()) {
            case SUBSCRIBE -> {
                s.subscribed = true;
                s.heldVersion = request.getSubscribe().getVersion();
                if (!s.heldVersion.isEmpty()) {
                    s.ackedVersion = s.heldVersion;
                }
                s.takesDeltas = request.getSubscribe().getDeltas();
                if (s.takesDeltas && !s.heldVersion.isEmpty()) {
                    // Found again only among its own key's snapshots (snapshotOf): a version of another member's
                    // would make the delta name services of that member's snapshot (as removed). Else its first push
                    // is whole.
                    s.baseVersion = s.heldVersion;
                }
                offerCurrent(s);
            }
            case ACK -> {
                if (request.getAck().getNonce().equals(s.sentNonce)) {
                    s.ackedVersion = request.getAck().getVersion();
                    s.ackedBundleVersion = s.sentBundleVersion;
                    s.lastError = "";
                    s.rejectedRoutes = List.of();
                    if (s.sentAt != null) {
                        metrics.acked(Duration.between(s.sentAt, clock.instant()));
                    }
                }
            }
            case NACK -> {
                if (!request.getNack().getNonce().equals(s.sentNonce)) {
                    return; // of an earlier push (or made up): the latest one's answer decides
                }
                NackReport report = NackReport.of(s.spiffeId, request.getNack());
                s.lastError = report.reason();
                s.rejectedRoutes = report.rejectedRoutes();
                metrics.nacked();
                LOG.warn("{} rejected config version {}: {}", s.spiffeId, s.sentVersion, report.reason());
                s.baseVersion = ""; // it keeps what it held before: the next push is whole
                if (s.sentDelta && request.getNack().getDeltaMismatch()) {
                    if (++s.deltaMismatches >= MAX_DELTA_MISMATCHES && s.takesDeltas) {
                        s.takesDeltas = false;
                        LOG.warn("{} could not apply {} deltas; its stream gets whole snapshots from now on",
                                s.spiffeId, s.deltaMismatches);
                    }
                    // The same version, whole, now.
                    s.sentDelta = false;
                    s.sentVersion = "";
                    s.heldVersion = s.ackedVersion;
                    offerCurrent(s);
                }
            }
            case SVID -> {
                SvidReports.Result r = SvidReports.read(request.getSvid(), s.spiffeId, view.bundles(), clock);
                if (r.reported() == null) {
                    LOG.warn("{} reported an SVID that is ignored: {}", s.spiffeId, r.ignoredBecause());
                } else {
                    s.svid = r.reported();
                }
            }
            default -> LOG.warn("{} sent an empty config request", s.spiffeId);
        }
    }

    /**
     * The snapshot of {@code version} for the subscribers of {@code key}: the current one, or one remembered; null
     * when neither (then the push is whole). Never another key's, whose delta would tell what that key holds.
     */
    private PreparedSnapshot snapshotOf(String key, String version) {
        if (version.isEmpty()) {
            return null;
        }
        for (Map<String, PreparedSnapshot> generation : List.of(snapshotCache, previousSnapshots)) {
            PreparedSnapshot s = generation.get(key);
            if (s != null && s.version().equals(version)) {
                return s;
            }
        }
        return deltas.remembered(key, version).orElse(null);
    }

    /** A delta was made: the subscribers waiting for one are sent it. */
    private void flushAll() {
        loop.checkInContext();
        for (Subscriber s : List.copyOf(subscribers.values())) {
            s.flush();
        }
    }

    /** The cache key of a subscriber's snapshot: its member and network now, and its audience (role). */
    private String key(Subscriber s) {
        MemberRecord m = currentMember(view, s);
        return key(m, s.audience());
    }

    private static String key(MemberRecord m, SnapshotAudience audience) {
        return m.name() + "\u0000" + m.network() + "\u0000" + audience.of(m);
    }

    private static MemberRecord currentMember(CatalogView view, Subscriber s) {
        return view.members().getOrDefault(s.member.name(), s.member);
    }

    /**
     * Edge gateways also get the routes, east-west gateways the pods they may attest; everyone else's snapshot
     * leaves them out (no push to agents on a route or pod change).
     */
    private static PreparedSnapshot build(CatalogView view, MemberRecord member, SnapshotAudience audience) {
        return PreparedSnapshot.versioned(SnapshotBuilder.content(view, member.name(), member.network(),
                audience.of(member)), null);
    }

    /** Offers {@code s} the snapshot of the current view, building it on the worker when it is not cached. */
    private void offerCurrent(Subscriber s) {
        loop.checkInContext();
        String key = key(s);
        PreparedSnapshot cached = snapshotCache.get(key);
        if (cached != null) {
            s.offer(cached, view.revision());
            return;
        }
        if (building.putIfAbsent(key, view.revision()) != null) {
            return; // offered to every subscriber of the key when it is built
        }
        CatalogView from = view;
        MemberRecord member = currentMember(from, s);
        SnapshotAudience audience = s.audience();
        storeReads.execute(() -> {
            PreparedSnapshot built;
            try {
                built = build(from, member, audience);
            } catch (RuntimeException e) {
                LOG.error("cannot build the config snapshot of member {}: {}", member.name(), e.toString());
                submit(() -> building.remove(key, from.revision()));
                return;
            }
            submit(() -> built(key, from.revision(), built));
        });
    }

    /** A snapshot built on the worker is back: offered if it is of the current view, else built again. */
    private void built(String key, long revision, PreparedSnapshot snapshot) {
        loop.checkInContext();
        building.remove(key, revision);
        if (revision != view.revision()) {
            // A newer view arrived meanwhile; its refresh offered what it had, and whoever still lacks a snapshot of
            // it gets one built from it now. The older one is dropped.
            for (Subscriber s : List.copyOf(subscribers.values())) {
                if (s.subscribed && s.offeredRevision < view.revision() && key(s).equals(key)) {
                    offerCurrent(s);
                }
            }
            return;
        }
        snapshotCache.put(key, snapshot);
        deltas.remember(key, snapshot);
        for (Subscriber s : List.copyOf(subscribers.values())) {
            if (key(s).equals(key)) {
                s.offer(snapshot, revision);
            }
        }
    }

    private void scheduleRefresh() {
        loop.checkInContext();
        if (pendingRefresh == null || !pendingRefresh.isPending()) {
            pendingRefresh = loop.schedule(this::refresh, debounce);
        }
    }

    /** Reads the store and builds the subscribers' snapshots on the worker; one read at a time. */
    private void refresh() {
        loop.checkInContext();
        if (loading) {
            changedWhileLoading = true;
            return;
        }
        loading = true;
        Map<Long, Wanted> wanted = new HashMap<>();
        for (Subscriber s : subscribers.values()) {
            wanted.put(s.id, new Wanted(s.member, s.audience()));
        }
        CatalogView from = view;
        Map<String, PreparedSnapshot> built = new HashMap<>(snapshotCache); // all of the current view
        storeReads.execute(() -> {
            Loaded loaded;
            try {
                loaded = load(from, built, wanted.values());
            } catch (RuntimeException e) {
                LOG.error("cannot read the store to refresh config snapshots; keeping the previous ones: {}",
                        e.toString());
                submit(() -> loaded(null));
                return;
            }
            submit(() -> loaded(loaded));
        });
    }

    /** What a subscriber needs, copied off the loop for the worker. */
    private record Wanted(MemberRecord member, SnapshotAudience audience) {}

    /** A view read on the worker and the snapshots built from it. */
    private record Loaded(CatalogView view, Map<String, PreparedSnapshot> snapshots) {}

    /**
     * On the worker: the view of the store now and every snapshot the current subscribers need. When only workloads
     * changed since {@code from}, the view is {@code from} with the changes applied, and each snapshot already built
     * from {@code from} is rebuilt for the services that changed only.
     */
    private Loaded load(CatalogView from, Map<String, PreparedSnapshot> built, java.util.Collection<Wanted> wanted) {
        CatalogView next = from.next(store, trust);
        Map<String, PreparedSnapshot> snapshots = new HashMap<>();
        for (Wanted w : wanted) {
            MemberRecord current = next.members().getOrDefault(w.member().name(), w.member());
            snapshots.computeIfAbsent(key(current, w.audience()), k -> {
                PreparedSnapshot previous = built.get(k);
                return previous == null ? build(next, current, w.audience())
                        : PreparedSnapshot.versioned(SnapshotBuilder.rebuiltContent(previous.content(),
                                from.revision(), next, current.name(), current.network(), w.audience().of(current)),
                                previous);
            });
        }
        return new Loaded(next, snapshots);
    }

    /** Back on the loop with a newer view (null: the read failed): every subscriber is offered its snapshot. */
    private void loaded(Loaded loaded) {
        loop.checkInContext();
        loading = false;
        if (loaded != null && loaded.view().revision() >= view.revision()) {
            view = loaded.view();
            previousSnapshots = snapshotCache;
            snapshotCache = new HashMap<>(loaded.snapshots());
            loaded.snapshots().forEach(deltas::remember);
            building.clear(); // builds still running are of an older view and are dropped when they return
            for (Subscriber s : List.copyOf(subscribers.values())) {
                offerCurrent(s);
            }
            CatalogView refreshed = view;
            for (java.util.function.Consumer<CatalogView> l : viewListeners) {
                try {
                    l.accept(refreshed);
                } catch (RuntimeException e) { // one listener's failure must not keep the view from the others
                    LOG.error("a catalog view listener failed at revision {}", refreshed.revision(), e);
                }
            }
        }
        if (changedWhileLoading) {
            changedWhileLoading = false;
            refresh();
        }
    }

    /**
     * Tells {@code listener} of every new catalog view, after the subscribers got their snapshots from it, so
     * others that follow the catalog (the Kubernetes connectors) need not read the store again. Listeners run on
     * the stream's thread and must not block.
     */
    public void onViewRefreshed(java.util.function.Consumer<CatalogView> listener) {
        viewListeners.add(listener);
    }

    private int subscriberCount() {
        return subscribers.size(); // a racy read is fine for a gauge
    }

    /** A consistent status of every subscriber, read on the stream thread. */
    public List<SubscriberStatus> status() {
        return loop.submit(() -> {
            Instant now = clock.instant();
            List<SubscriberStatus> out = new ArrayList<>();
            for (Subscriber s : subscribers.values()) {
                long lag = !s.sentVersion.isEmpty() && !s.sentVersion.equals(s.ackedVersion) && s.sentAt != null
                        ? Duration.between(s.sentAt, now).toMillis() : 0;
                out.add(SubscriberStatus.newBuilder()
                        .setSpiffeId(s.spiffeId.toString())
                        .setMember(s.member.name())
                        .setNetwork(s.member.network())
                        .setSentVersion(s.latestVersion()) // a reconnect holding the current version needs no send
                        .setAckedVersion(s.ackedVersion)
                        .setConnectedSince(Timestamp.newBuilder().setSeconds(s.connectedSince.getEpochSecond())
                                .setNanos(s.connectedSince.getNano()))
                        .setLagMs(lag)
                        .setLastError(s.lastError)
                        .addAllRejectedRoutes(s.rejectedRoutes)
                        .setAckedBundleVersion(s.ackedBundleVersion)
                        .setSvidRootSha256(s.svid == null ? "" : s.svid.rootSha256())
                        .setTakesDeltas(s.takesDeltas).setDeltaPushes(s.deltaPushes).setWholePushes(s.wholePushes)
                        .setSvidNotAfter(s.svid == null ? Timestamp.getDefaultInstance()
                                : Timestamp.newBuilder().setSeconds(s.svid.notAfter().getEpochSecond()).build())
                        .build());
            }
            out.sort(java.util.Comparator.comparing(SubscriberStatus::getSpiffeId));
            return out;
        }).join();
    }

    @Override
    public void close() {
        watch.close();
        leases.close();
        submit(() -> List.copyOf(subscribers.values()).forEach(s -> {
            s.close();
            try {
                s.out.onError(Status.UNAVAILABLE.withDescription("controller shutting down").asRuntimeException());
            } catch (RuntimeException ignored) {
                // stream already gone
            }
        }));
        loop.shutdown(Duration.ofSeconds(5));
    }

    /** For a refused stream: whatever the peer still sends is dropped. */
    private static final class DiscardingObserver implements StreamObserver<ConfigRequest> {
        @Override
        public void onNext(ConfigRequest value) {
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
    }
}
