package io.meshfed.controller;

import static java.util.Objects.requireNonNull;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.controller.admin.AdminJson;
import io.meshfed.controller.admin.AdminOperations;
import io.meshfed.controller.kubernetes.ClusterConnectors;
import io.meshfed.controller.admin.AdminServiceImpl;
import io.meshfed.controller.catalog.RegistrationServiceImpl;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.IdentityOperations;
import io.meshfed.controller.identity.RevokedIdentities;
import io.meshfed.controller.identity.RevokedWithdrawals;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.join.JoinServiceImpl;
import io.meshfed.controller.join.SvidLifetimes;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.server.PeerIdentity;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.sqlite.SqliteStore;
import io.meshfed.controller.stream.ConfigStreamService;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.handler.ssl.ClientAuth;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running controller: the store, the federation's CAs, the gRPC API over mTLS (join, config streams,
 * registration, admin) and the HTTPS endpoint (health, metrics, JSON admin).
 */
public final class Controller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);
    static final Duration SVID_TTL = Duration.ofHours(24);
    /** The largest gRPC request a caller may send (reports, admin calls); snapshots go the other way. */
    static final int MAX_REQUEST_BYTES = 1 << 20;

    private final Store store;
    private final ConfigStreamService streams;
    private final Server grpc;
    private final HttpEndpoint http;
    private final HttpEndpoint probes; // null when off
    private final ScheduledExecutorService maintenance;
    private final Store.Watch bundleWatch;
    private final RevokedIdentities revoked;
    private final RevokedWithdrawals withdrawals;
    private final InetSocketAddress grpcAddress;
    private volatile boolean ready;
    private boolean closed; // guarded by this

    private final ClusterConnectors clusters;
    /** The timer and store-read worker this controller made itself (none when they were given to it). */
    private final List<ExecutorService> ownedExecutors;

    private Controller(Store store, ConfigStreamService streams, Server grpc, HttpEndpoint http, HttpEndpoint probes,
            ScheduledExecutorService maintenance, Store.Watch bundleWatch, InetSocketAddress grpcAddress,
            ClusterConnectors clusters, RevokedIdentities revoked, RevokedWithdrawals withdrawals,
            List<ExecutorService> ownedExecutors) {
        this.ownedExecutors = ownedExecutors;
        this.clusters = clusters;
        this.revoked = revoked;
        this.withdrawals = withdrawals;
        this.store = store;
        this.streams = streams;
        this.grpc = grpc;
        this.http = http;
        this.probes = probes;
        this.maintenance = maintenance;
        this.bundleWatch = bundleWatch;
        this.grpcAddress = grpcAddress;
    }

    /**
     * Starts a controller on an initialised data directory.
     *
     * @throws io.meshfed.trust.ca.CaException when the data directory holds no federation or its keys do not load
     * @throws io.meshfed.controller.store.StoreException when the store cannot be opened
     * @throws IOException when a listen address is taken
     */
    public static Controller start(ControllerConfig config, Clock clock) throws IOException {
        return start(config, HttpEndpoint.Timeouts.DEFAULTS, clock);
    }

    /** As {@link #start(ControllerConfig, Clock)}, with the HTTP listeners' timeouts given. */
    public static Controller start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock)
            throws IOException {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "controller-timer"));
        ExecutorService storeReads = Executors.newSingleThreadExecutor(r -> daemon(r, "config-stream-reads"));
        try {
            return start(config, httpTimeouts, clock, timer, storeReads, List.of(timer, storeReads));
        } catch (IOException | RuntimeException e) {
            timer.shutdownNow();
            storeReads.shutdownNow();
            throw e;
        }
    }

    /**
     * As {@link #start(ControllerConfig, HttpEndpoint.Timeouts, Clock)}, with the timer of every component's delays
     * (push debounce, agent grace periods, cluster syncs and grace) and the worker that reads the store for the
     * config streams given (tests give a fake timer). The controller does not shut them down.
     */
    public static Controller start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock,
            ScheduledExecutorService timer, Executor storeReads) throws IOException {
        return start(config, httpTimeouts, clock, timer, storeReads, List.of());
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static Controller start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock,
            ScheduledExecutorService timer, Executor storeReads, List<ExecutorService> ownedExecutors)
            throws IOException {
        requireNonNull(config, "config");
        requireNonNull(httpTimeouts, "httpTimeouts");
        FederationIdentity identity = FederationIdentity.load(config.dataDir(), clock);
        Store store = SqliteStore.open(config.dataDir().resolve("state.db"));
        try {
            TrustState trust = new TrustState(identity);
            X509Svid svid = identity.issueControllerSvid(SVID_TTL);
            TlsCredentials credentials = TlsCredentials.of(svid, trust.bundleSet(store));
            Store.Watch bundleWatch = store.watch(store.revision(), change -> {
                if (change.kind().equals("Member") || change.kind().equals("Meta")) {
                    credentials.updateBundles(trust.bundleSet(store));
                }
            });
            ControllerMetrics metrics = new ControllerMetrics();
            metrics.gauge("meshfed.store.revision", "Global store revision", store::revision);
            IdentityOperations.recordEarlierJoins(store);
            io.meshfed.controller.catalog.EarlierNetworks.assignUnambiguousGatewayMembers(store);
            RevokedIdentities revoked = new RevokedIdentities(store);
            RevokedWithdrawals withdrawals = new RevokedWithdrawals(store, revoked, timer);
            ConfigStreamService streams = new ConfigStreamService(store, trust, metrics, clock, timer, storeReads,
                    config.pushDebounce(), config.agentGracePeriod(), config.configStreamsPerIdentity(), revoked);
            ClusterConnectors clusters = new ClusterConnectors(store, identity, trust, streams, metrics, clock, timer,
                    config.clusterStaleGrace(), config.memberPortQuota());
            AdminOperations admin = new AdminOperations(store, identity, streams, clusters, clock);
            SpiffeId adminId = identity.adminId();
            SpiffeTrustManager trustManager = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), clock,
                    e -> metrics.join(false, "tls_" + e.reason().label()));
            SpiffeKeyManager keyManager = new SpiffeKeyManager(credentials);
            TlsProvider provider = TlsProvider.preferred();
            PeerIdentity peers = new PeerIdentity((method, peer) -> {
                Optional<Status> refusal = rule(method, peer, adminId, revoked);
                if (refusal.isPresent() && refusal.get().getCode() == Status.Code.PERMISSION_DENIED
                        && peer.isPresent() && revoked.isRevoked(peer.get().toString())) {
                    metrics.refused("grpc", "revoked");
                }
                return refusal;
            });
            String[] advertise = {config.advertiseAddress()}; // completed once the port is bound
            Server grpc = NettyServerBuilder.forAddress(config.listen())
                    .sslContext(GrpcSslContexts.configure(
                            SpiffeTls.nettyServerBuilder(provider, trustManager, keyManager, ClientAuth.OPTIONAL),
                            provider.netty()).build())
                    .addService(ServerInterceptors.intercept(new JoinServiceImpl(store, identity, metrics,
                            () -> List.of(advertise[0]), new SvidLifetimes(config.svidMaxTtl(),
                            config.svidMaxTtlByTrustDomain()), clock), peers))
                    .addService(ServerInterceptors.intercept(streams, peers))
                    .addService(ServerInterceptors.intercept(new RegistrationServiceImpl(store, metrics,
                            config.memberPortQuota(), streams::workloadsReported), peers))
                    .addService(ServerInterceptors.intercept(new AdminServiceImpl(admin), peers))
                    .permitKeepAliveTime(10, TimeUnit.SECONDS)
                    .maxInboundMessageSize(MAX_REQUEST_BYTES)
                    .permitKeepAliveWithoutCalls(true)
                    .build()
                    .start();
            InetSocketAddress grpcAddress = (InetSocketAddress) grpc.getListenSockets().get(0);
            if (advertise[0].isEmpty()) {
                advertise[0] = config.listen().getHostString() + ":" + grpcAddress.getPort();
            }
            Controller[] self = new Controller[1];
            java.util.function.BooleanSupplier isReady = () -> self[0] != null && self[0].ready;
            HttpEndpoint http = HttpEndpoint.https(config.httpListen(),
                    SpiffeTls.nettyServerBuilder(provider, trustManager, keyManager, ClientAuth.OPTIONAL).build(),
                    httpTimeouts, isReady, metrics::scrape, new AdminJson(admin, id -> isAdmin(id, adminId)));
            HttpEndpoint probes;
            try {
                probes = config.probeListen() == null ? null
                        : HttpEndpoint.probes(config.probeListen(), httpTimeouts, isReady, metrics::scrape);
            } catch (IOException | RuntimeException e) {
                http.close();
                throw e;
            }
            ScheduledExecutorService maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "controller-maintenance");
                t.setDaemon(true);
                return t;
            });
            long renewEvery = SVID_TTL.toSeconds() / 2;
            maintenance.scheduleAtFixedRate(() -> {
                try {
                    credentials.updateSvid(identity.issueControllerSvid(SVID_TTL));
                    LOG.info("renewed the controller SVID");
                } catch (RuntimeException e) {
                    LOG.error("cannot renew the controller SVID; retrying at the next interval: {}", e.toString());
                }
            }, renewEvery, renewEvery, TimeUnit.SECONDS);
            clusters.start();
            Controller controller = new Controller(store, streams, grpc, http, probes, maintenance, bundleWatch,
                    grpcAddress, clusters, revoked, withdrawals, ownedExecutors);
            self[0] = controller;
            controller.ready = true;
            LOG.info("controller of trust domain {} serving gRPC on {} and HTTPS on {} (TLS provider {}){}, store"
                    + " revision {}", identity.federationTrustDomain(), grpcAddress, http.address(), provider,
                    probes == null ? "" : ", probes on HTTP " + probes.address(), store.revision());
            return controller;
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    static boolean isAdmin(SpiffeId id, SpiffeId adminId) {
        return MeshfedIds.isAdmin(id, adminId.trustDomain());
    }

    /**
     * Who may call what: Join needs no certificate; admin calls need an admin SVID; the rest any verified SVID that
     * was not revoked. Renew checks revocation itself, against the store, so that its refusal is audited.
     */
    static Optional<Status> rule(String method, Optional<SpiffeId> peer, SpiffeId adminId,
            RevokedIdentities revoked) {
        if (method.equals(JoinServiceGrpc.getJoinMethod().getFullMethodName())) {
            return Optional.empty();
        }
        if (peer.isEmpty()) {
            return Optional.of(Status.UNAUTHENTICATED.withDescription(
                    "this call needs a client certificate (an SVID); join the federation first"));
        }
        if (method.startsWith(AdminServiceGrpc.SERVICE_NAME + "/") && !isAdmin(peer.get(), adminId)) {
            return Optional.of(Status.PERMISSION_DENIED.withDescription(peer.get()
                    + " is not an admin identity; admin calls need the credentials made by 'meshfed init'"));
        }
        if (method.equals(JoinServiceGrpc.getRenewMethod().getFullMethodName())) {
            return Optional.empty();
        }
        return revoked.refusal(peer.get());
    }

    public InetSocketAddress grpcAddress() {
        return grpcAddress;
    }

    public InetSocketAddress httpAddress() {
        return http.address();
    }

    /** The plain-HTTP probe listener's address, when {@code probeListen} is set. */
    public Optional<InetSocketAddress> probeAddress() {
        return Optional.ofNullable(probes).map(HttpEndpoint::address);
    }

    public Store store() {
        return store;
    }

    public ConfigStreamService streams() {
        return streams;
    }

    /** Stops accepting, closes streams (subscribers reconnect to another replica or later), closes the store. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        maintenance.shutdownNow();
        http.close();
        if (probes != null) {
            probes.close();
        }
        grpc.shutdown();
        streams.close();
        try {
            if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
                grpc.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            grpc.shutdownNow();
        }
        clusters.close();
        withdrawals.close();
        revoked.close();
        bundleWatch.close();
        ownedExecutors.forEach(ExecutorService::shutdownNow);
        store.close();
        LOG.info("controller stopped");
    }
}
