package io.meshfed.controller.stream;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.controller.catalog.CatalogView;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Config streams. Each subscriber receives the snapshot of its member and network; a store change is pushed,
 * debounced, to every subscriber whose snapshot changed; a subscriber that holds the current version gets nothing.
 * All subscriber state is changed on one thread ({@code loop}); gRPC callbacks only hand work to it. A subscriber that
 * cannot keep up gets the newest version when it is ready again, never a backlog.
 */
public final class ConfigStreamService implements io.grpc.BindableService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigStreamService.class);

    private final Store store;
    private final TrustState trust;
    private final ControllerMetrics metrics;
    private final Clock clock;
    private final Duration debounce;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "config-stream");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong nonces = new AtomicLong();
    // Everything below is confined to `loop`.
    private final Map<Long, Subscriber> subscribers = new LinkedHashMap<>();
    private final Map<String, PreparedSnapshot> snapshotCache = new HashMap<>();
    private final List<java.util.function.Consumer<CatalogView>> viewListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private CatalogView view;
    private ScheduledFuture<?> pendingRefresh;
    private final Store.Watch watch;

    private final io.meshfed.controller.catalog.AgentLeases leases;
    private final int streamsPerIdentity;
    private final RevokedIdentities revoked;
    /** Open streams per SPIFFE ID: taken on the gRPC thread when a stream opens, given back when it closes. */
    private final java.util.concurrent.ConcurrentHashMap<String, Integer> openStreams =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param streamsPerIdentity how many streams one SPIFFE ID may hold open at once; one more is refused
     * @param revoked identities whose streams are closed when they are revoked, and refused afterwards
     */
    public ConfigStreamService(Store store, TrustState trust, ControllerMetrics metrics, Clock clock,
            Duration debounce, Duration agentGracePeriod, int streamsPerIdentity, RevokedIdentities revoked) {
        this.streamsPerIdentity = streamsPerIdentity;
        this.revoked = requireNonNull(revoked, "revoked");
        this.store = requireNonNull(store, "store");
        this.trust = requireNonNull(trust, "trust");
        this.metrics = requireNonNull(metrics, "metrics");
        this.clock = requireNonNull(clock, "clock");
        this.debounce = requireNonNull(debounce, "debounce");
        this.view = CatalogView.load(store, trust);
        this.watch = store.watch(view.revision(), change -> submit(this::scheduleRefresh));
        metrics.gauge("meshfed.subscribers", "Config stream subscribers connected", this::subscriberCount);
        this.leases = new io.meshfed.controller.catalog.AgentLeases(store, loop, agentGracePeriod,
                id -> subscribers.values().stream().anyMatch(s -> s.spiffeId.toString().equals(id)));
        leases.startAll();
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
        PreparedSnapshot pending;
        boolean closed;

        Subscriber(SpiffeId spiffeId, MemberRecord member, ServerCallStreamObserver<PreparedSnapshot.Push> out) {
            this.spiffeId = spiffeId;
            this.member = member;
            this.out = out;
        }

        String latestVersion() {
            return sentVersion.isEmpty() ? heldVersion : sentVersion;
        }

        void offer(PreparedSnapshot snapshot) {
            if (closed || !subscribed) {
                return;
            }
            if (snapshot.version().equals(latestVersion())) {
                pending = null;
                return;
            }
            pending = snapshot;
            flush();
        }

        void flush() {
            if (closed || pending == null || !out.isReady()) {
                return;
            }
            String nonce = Long.toString(nonces.incrementAndGet(), 36);
            PreparedSnapshot.Push message = PreparedSnapshot.Push.of(pending, nonce, spiffeId.toString());
            sentVersion = pending.version();
            pending = null;
            sentNonce = nonce;
            sentAt = clock.instant();
            try {
                out.onNext(message);
                metrics.pushed();
            } catch (RuntimeException e) {
                close();
            }
        }

        boolean edge() {
            return MeshfedIds.hasRole(spiffeId, MeshfedIds.Role.EDGE);
        }

        void close() {
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
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down: the stream is being closed anyway
        }
    }

    private void handle(Subscriber s, ConfigRequest request) {
        switch (request.getKindCase()) {
            case SUBSCRIBE -> {
                s.subscribed = true;
                s.heldVersion = request.getSubscribe().getVersion();
                if (!s.heldVersion.isEmpty()) {
                    s.ackedVersion = s.heldVersion;
                }
                s.offer(snapshotFor(s.member, s.edge()));
            }
            case ACK -> {
                if (request.getAck().getNonce().equals(s.sentNonce)) {
                    s.ackedVersion = request.getAck().getVersion();
                    s.lastError = "";
                    if (s.sentAt != null) {
                        metrics.acked(Duration.between(s.sentAt, clock.instant()));
                    }
                }
            }
            case NACK -> {
                s.lastError = request.getNack().getReason();
                metrics.nacked();
                LOG.warn("{} rejected config version {}: {}", s.spiffeId, request.getNack().getVersion(),
                        request.getNack().getReason());
            }
            default -> LOG.warn("{} sent an empty config request", s.spiffeId);
        }
    }

    /** Edge gateways also get the routes; everyone else's snapshot leaves them out (no push on a route change). */
    private PreparedSnapshot snapshotFor(MemberRecord member, boolean edge) {
        return snapshotCache.computeIfAbsent(member.name() + "\u0000" + member.network() + (edge ? "\u0000edge" : ""),
                k -> PreparedSnapshot.of(SnapshotBuilder.build(view, member.name(), member.network(), edge)));
    }

    private void scheduleRefresh() {
        if (pendingRefresh == null || pendingRefresh.isDone()) {
            pendingRefresh = loop.schedule(this::refresh, debounce.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void refresh() {
        try {
            view = CatalogView.load(store, trust);
        } catch (RuntimeException e) {
            LOG.error("cannot read the store to refresh config snapshots; keeping the previous ones: {}", e.toString());
            return;
        }
        snapshotCache.clear();
        for (Subscriber s : List.copyOf(subscribers.values())) {
            MemberRecord current = view.members().getOrDefault(s.member.name(), s.member);
            s.offer(snapshotFor(current, s.edge()));
        }
        CatalogView refreshed = view;
        viewListeners.forEach(l -> l.accept(refreshed));
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
        return CompletableFuture.supplyAsync(() -> {
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
                        .build());
            }
            out.sort(java.util.Comparator.comparing(SubscriberStatus::getSpiffeId));
            return out;
        }, loop).join();
    }

    @Override
    public void close() {
        watch.close();
        submit(() -> List.copyOf(subscribers.values()).forEach(s -> {
            s.close();
            try {
                s.out.onError(Status.UNAVAILABLE.withDescription("controller shutting down").asRuntimeException());
            } catch (RuntimeException ignored) {
                // stream already gone
            }
        }));
        loop.shutdown();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
