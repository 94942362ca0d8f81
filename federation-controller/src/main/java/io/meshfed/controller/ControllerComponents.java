package io.meshfed.controller;

import static java.util.Objects.requireNonNull;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.meshfed.controller.admin.AdminServiceImpl;
import io.meshfed.controller.authz.CallerPolicyOperations;
import io.meshfed.controller.catalog.CatalogWithdrawal;
import io.meshfed.controller.catalog.EarlierNetworks;
import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.catalog.ExportOperations;
import io.meshfed.controller.catalog.RegistrationServiceImpl;
import io.meshfed.controller.identity.ControllerSvidRenewal;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.IdentityOperations;
import io.meshfed.controller.identity.ReportWithdrawal;
import io.meshfed.controller.identity.RevokedIdentities;
import io.meshfed.controller.identity.RevokedWithdrawals;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.join.JoinServiceImpl;
import io.meshfed.controller.join.JoinTokenOperations;
import io.meshfed.controller.join.JoinTokens;
import io.meshfed.controller.join.SvidLifetimes;
import io.meshfed.controller.federation.BundleFetcher;
import io.meshfed.controller.federation.FederationOperations;
import io.meshfed.controller.federation.FederationRefresher;
import io.meshfed.controller.rotation.RootRotations;
import io.meshfed.controller.connector.kubernetes.ClusterConnectors;
import io.meshfed.controller.connector.consul.ConsulConnectors;
import io.meshfed.controller.connector.consul.ConsulOperations;
import io.meshfed.controller.connector.kubernetes.ClusterOperations;
import io.meshfed.controller.membership.MembershipService;
import io.meshfed.controller.routes.RouteOperations;
import io.meshfed.controller.server.AdvertisedAddress;
import io.meshfed.controller.server.ControllerMetrics;
import io.meshfed.controller.server.ErrorMappingInterceptor;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.server.WebPkiTls;
import io.meshfed.controller.server.JsonTranscoder;
import io.meshfed.controller.server.PeerIdentity;
import io.meshfed.controller.server.Readiness;
import io.meshfed.controller.status.StatusService;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.leader.LeaderElection;
import io.meshfed.controller.leader.LeaseBackends;
import io.meshfed.controller.leader.ReplicaPresence;
import io.meshfed.controller.store.backends.StoreBackends;
import io.meshfed.controller.stream.ConfigStreamService;
import io.meshfed.trust.SpiffeId;
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
import java.util.Optional;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's composition root: the one place that builds its components, in order, and closes them in
 * reverse. In order: the federation's CAs (loading them checks the data directory), the store, the trust bundles
 * the listeners verify peers with, the services (revocation, config streams, membership, status, join tokens,
 * exports, routes, identities, clusters, join, registration, admin), the cluster connectors, the servers (gRPC, then
 * HTTPS, then the probe listener), the controller SVID's renewal, and last readiness. Closing runs backwards from
 * readiness to the store, which is closed last. A start that fails half-way closes what it had started before the
 * failure is thrown, so its ports and its store are free again. No business class builds another's collaborators:
 * each receives them here.
 */
final class ControllerComponents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerComponents.class);
    static final Duration SVID_TTL = Duration.ofHours(24);
    /** How often root rotations check their gates. */
    static final Duration ROTATION_TICK = Duration.ofSeconds(1);
    /** The largest gRPC request a caller may send (reports, admin calls); snapshots go the other way. */
    static final int MAX_REQUEST_BYTES = 1 << 20;

    private final StartedComponents started;
    private final Store store;
    private final ConfigStreamService streams;
    private final InetSocketAddress grpcAddress;
    private final HttpEndpoint http;
    private final HttpEndpoint probes; // null when off
    private final HttpEndpoint webBundles; // null when off
    private LeaderElection election;

    private ControllerComponents(StartedComponents started, Store store, ConfigStreamService streams,
            InetSocketAddress grpcAddress, HttpEndpoint http, HttpEndpoint probes, HttpEndpoint webBundles) {
        this.webBundles = webBundles;
        this.started = started;
        this.store = store;
        this.streams = streams;
        this.grpcAddress = grpcAddress;
        this.http = http;
        this.probes = probes;
    }

    /** Builds and starts every component; on failure, closes those already started and throws. */
    static ControllerComponents start(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts, Clock clock,
            Timing timing, StartedComponents.Listener listener) throws IOException {
        requireNonNull(config, "config");
        requireNonNull(httpTimeouts, "httpTimeouts");
        requireNonNull(clock, "clock");
        requireNonNull(timing, "timing");
        StartedComponents started = new StartedComponents(listener);
        try {
            return build(config, httpTimeouts, clock, timing, started);
        } catch (IOException | RuntimeException | Error e) {
            started.close();
            timing.close(); // when the failure came before it was started
            throw e;
        }
    }

    private static ControllerComponents build(ControllerConfig config, HttpEndpoint.Timeouts httpTimeouts,
            Clock clock, Timing timing, StartedComponents started) throws IOException {
        ScheduledExecutorService timer = timing.timer();
        // The CAs first: loading them fails on a directory that holds no federation, before a store is made there.
        FederationIdentity identity = FederationIdentity.load(config.dataDir(), clock);
        Store store = StoreBackends.standard().open(config.store());
        started.add("store", store);
        if (store.exclusive() && !config.leaderLease().equals(LeaseBackends.DEFAULT)) {
            throw new ControllerConfig.ConfigException("leaderLease " + config.leaderLease() + " elects a leader"
                    + " among replicas that share a PostgreSQL store, but the store " + config.store().location()
                    + " is one process's: leave leaderLease at '" + LeaseBackends.DEFAULT + "'");
        }
        io.meshfed.controller.leader.LeaderLease lease = LeaseBackends.standard().open(config.leaderLease(), store,
                config.leaderLeaseTtl());
        started.add("leader lease", lease); // closed by the election too; here for a start that fails before it
        LeaderElection election = new LeaderElection(store, lease, LeaderElection.holderName(),
                config.leaderLeaseTtl(), config.leaderLeaseTtl().dividedBy(6));
        Store leaderOnly = election.fenced(); // the leader-only components write only while this replica leads
        ReplicaPresence presence = new ReplicaPresence(store, election.holder(), config.leaderLeaseTtl());
        started.add("timer and store reads", timing); // its tasks' components close before it
        IdentityOperations.recordEarlierJoins(store);
        EarlierNetworks.assignUnambiguousGatewayMembers(store);
        PortAllocations ports = new PortAllocations(config.outboundPorts(), config.memberPortQuota());
        store.transact(ports::reconcile); // converts global allocations, follows a changed range
        ControllerMetrics metrics = new ControllerMetrics();
        metrics.gauge("meshfed.store.revision", "Global store revision", store::revision);

        TrustState trust = new TrustState(identity);
        TlsCredentials credentials = TlsCredentials.of(identity.issueControllerSvid(SVID_TTL), trust.bundleSet(store));
        Store.Watch bundleWatch = store.watch(store.revision(), change -> {
            if (change.kind().equals("Member") || change.kind().equals("Meta")) {
                credentials.updateBundles(trust.bundleSet(store));
            }
        });
        started.add("trust bundle watch", bundleWatch);

        RevokedIdentities revoked = new RevokedIdentities(store);
        started.add("revoked identities", revoked);
        ReportWithdrawal withdrawal = new CatalogWithdrawal(ports);
        started.add("revoked withdrawals", new RevokedWithdrawals(store, revoked, withdrawal, timer));
        ConfigStreamService streams = new ConfigStreamService(store, trust, metrics, clock, timer,
                timing.storeReads(), config.pushDebounce(),
                config.agentGracePeriod(), config.configStreamsPerIdentity(), revoked, presence::streamedElsewhere);
        started.add("config streams", streams);
        ClusterConnectors connectors = new ClusterConnectors(leaderOnly, identity, trust, streams, metrics, clock,
                timer, config.clusterStaleGrace(), ports, config.maxPodsPerCluster());
        ConsulConnectors consulConnectors = new ConsulConnectors(leaderOnly, identity, trust, streams, metrics, clock,
                timer, config.clusterStaleGrace(), ConsulConnectors.DEFAULT_WAIT, ports);
        MembershipService membership = new MembershipService(store, identity, ports);
        JoinTokenOperations tokens = new JoinTokenOperations(store, identity, new JoinTokens(store, clock));
        ExportOperations exports = new ExportOperations(store, ports);
        SvidLifetimes lifetimes = new SvidLifetimes(config.svidMaxTtl(), config.svidMaxTtlByTrustDomain());
        RootRotations rotations = new RootRotations(leaderOnly, trust, new RootRotations.Sources(streams::status,
                connectors::trustBundleVersions, lifetimes::max), clock, timer, ROTATION_TICK);
        FederationRefresher federationRefresher = new FederationRefresher(leaderOnly,
                new BundleFetcher(config.federation().fetchTimeout(), clock), clock, timer);
        FederationOperations federations = new FederationOperations(store, identity.federationTrustDomain(),
                federationRefresher, clock);
        StatusService status = new StatusService(store, identity, trust, streams, connectors, consulConnectors, clock,
                config.outboundPorts(), rotations, federations, election);
        RouteOperations routes = new RouteOperations(store, streams::status);
        ClusterOperations clusters = new ClusterOperations(store, identity, membership, connectors);
        ConsulOperations consul = new ConsulOperations(store, identity, membership, consulConnectors);
        IdentityOperations identities = new IdentityOperations(store, clock, withdrawal);
        AdvertisedAddress advertised = new AdvertisedAddress(config.advertiseAddress(),
                config.listen().getHostString());
        JoinServiceImpl join = new JoinServiceImpl(store, identity, trust, metrics, advertised,
                lifetimes, clock);
        RegistrationServiceImpl registration = new RegistrationServiceImpl(store, metrics, ports,
                streams::workloadsReported);
        CallerPolicyOperations callers = new CallerPolicyOperations(store, ports::reconcile);
        AdminServiceImpl admin = new AdminServiceImpl(membership, tokens, exports, status, routes, clusters,
                consul, identities, callers, rotations, federations);

        started.add("cluster connectors", connectors);
        started.add("consul connectors", consulConnectors);
        started.add("root rotations", rotations);
        started.add("federation refresher", federationRefresher);
        // Started once the leader is known; closed first, so the components follow before they close.
        election.add(streams.agentLeases()).add(connectors).add(consulConnectors).add(rotations)
                .add(federationRefresher);
        presence.start(streams::streamIdentities);
        started.add("replica presence", presence);
        election.start();
        started.add("leader election", election);

        SpiffeId adminId = identity.adminId();
        SpiffeTrustManager trustManager = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), clock,
                e -> metrics.join(false, "tls_" + e.reason().label()));
        SpiffeKeyManager keyManager = new SpiffeKeyManager(credentials);
        TlsProvider provider = TlsProvider.preferred();
        PeerIdentity peers = new PeerIdentity((method, peer) -> {
            Optional<Status> refusal = Controller.rule(method, peer, adminId, revoked);
            if (refusal.isPresent() && refusal.get().getCode() == Status.Code.PERMISSION_DENIED
                    && peer.isPresent() && revoked.isRevoked(peer.get().toString())) {
                metrics.refused("grpc", "revoked");
            }
            return refusal;
        });
        ErrorMappingInterceptor errors = new ErrorMappingInterceptor();
        ServerServiceDefinition adminService = ServerInterceptors.intercept(admin, peers);
        Server grpc = NettyServerBuilder.forAddress(config.listen())
                .sslContext(GrpcSslContexts.configure(
                        SpiffeTls.nettyServerBuilder(provider, trustManager, keyManager, ClientAuth.OPTIONAL),
                        provider.netty()).build())
                .addService(ServerInterceptors.intercept(join, peers))
                .addService(ServerInterceptors.intercept(streams, peers))
                .addService(ServerInterceptors.intercept(registration, peers))
                .addService(adminService)
                .intercept(errors) // every service's failures, mapped once
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .maxInboundMessageSize(MAX_REQUEST_BYTES)
                .permitKeepAliveWithoutCalls(true)
                .build()
                .start();
        started.add("gRPC server", () -> stop(grpc, streams));
        InetSocketAddress grpcAddress = (InetSocketAddress) grpc.getListenSockets().get(0);
        advertised.bound(grpcAddress);
        Readiness readiness = new Readiness();
        var published = new io.meshfed.controller.identity.PublishedBundles(trust, store);
        HttpEndpoint http = HttpEndpoint.https(config.httpListen(),
                SpiffeTls.nettyServerBuilder(provider, trustManager, keyManager, ClientAuth.OPTIONAL).build(),
                httpTimeouts, readiness::isReady, metrics::scrape, 
                new JsonTranscoder(ServerInterceptors.intercept(adminService, errors)), // the same chain as gRPC
                published::document);
        started.add("HTTPS endpoint", http);
        HttpEndpoint webBundles = null;
        if (config.federation().webEndpoint()) {
            webBundles = HttpEndpoint.bundleEndpoint(config.federation().bundleEndpointListen(),
                    WebPkiTls.server(config.federation().bundleEndpointCertFile(),
                            config.federation().bundleEndpointKeyFile()), httpTimeouts, readiness::isReady,
                    published::document);
            started.add("https_web bundle endpoint", webBundles);
        }
        HttpEndpoint probes = null;
        if (config.probeListen() != null) {
            probes = HttpEndpoint.probes(config.probeListen(), httpTimeouts, readiness::isReady, metrics::scrape);
            started.add("probe endpoint", probes);
        }
        started.add("controller SVID renewal", ControllerSvidRenewal.start(identity, credentials, SVID_TTL));
        readiness.markReady();
        started.add("readiness", readiness::markNotReady);
        LOG.info("controller of trust domain {} serving gRPC on {} and HTTPS on {} (TLS provider {}){}, store"
                + " revision {}", identity.federationTrustDomain(), grpcAddress, http.address(), provider,
                (probes == null ? "" : ", probes on HTTP " + probes.address()) + (webBundles == null ? ""
                        : ", the https_web SPIFFE bundle endpoint on " + webBundles.address()), store.revision());
        ControllerComponents components = new ControllerComponents(started, store, streams, grpcAddress, http, probes,
                webBundles);
        components.election = election;
        return components;
    }

    /**
     * Stops accepting calls, ends the open config streams (their subscribers are told to reconnect, to another replica
     * or later) and waits a little for the calls in flight.
     */
    private static void stop(Server grpc, ConfigStreamService streams) {
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
    }

    InetSocketAddress grpcAddress() {
        return grpcAddress;
    }

    InetSocketAddress httpAddress() {
        return http.address();
    }

    Optional<InetSocketAddress> probeAddress() {
        return Optional.ofNullable(probes).map(HttpEndpoint::address);
    }

    Optional<InetSocketAddress> webBundleEndpointAddress() {
        return Optional.ofNullable(webBundles).map(HttpEndpoint::address);
    }

    Store store() {
        return store;
    }

    LeaderElection leadership() {
        return election;
    }

    ConfigStreamService streams() {
        return streams;
    }

    /** Closes every component in the reverse order of their start; the store last. */
    @Override
    public void close() {
        started.close();
        LOG.info("controller stopped");
    }

    /**
     * The timer of every component's delays and the worker that reads the store for the config streams: made and
     * shut down by the controller ({@link #owned()}), or given by the caller, who shuts them down ({@link #given}).
     */
    record Timing(ScheduledExecutorService timer, Executor storeReads, List<ExecutorService> toShutDown)
            implements AutoCloseable {
        Timing {
            requireNonNull(timer, "timer");
            requireNonNull(storeReads, "storeReads");
            toShutDown = List.copyOf(toShutDown);
        }

        static Timing given(ScheduledExecutorService timer, Executor storeReads) {
            return new Timing(timer, storeReads, List.of());
        }

        static Timing owned() {
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                    r -> daemon(r, "controller-timer"));
            ExecutorService reads = Executors.newSingleThreadExecutor(r -> daemon(r, "config-stream-reads"));
            return new Timing(timer, reads, List.of(timer, reads));
        }

        private static Thread daemon(Runnable r, String name) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        }

        @Override
        public void close() {
            toShutDown.forEach(ExecutorService::shutdownNow);
        }
    }
}
