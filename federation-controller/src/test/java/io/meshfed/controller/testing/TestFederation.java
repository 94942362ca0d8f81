package io.meshfed.controller.testing;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.meshfed.api.concurrent.FakeScheduler;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.JoinRequest;
import io.meshfed.api.v1.JoinResponse;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.Controller;
import io.meshfed.controller.ControllerConfig;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.testing.MutableClock;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.PinnedRootTrustManager;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/** A real controller on loopback ports in a temporary data directory, with clients that speak real mTLS to it. */
public final class TestFederation implements AutoCloseable {
    public static final TrustDomain FEDERATION_TD = TrustDomain.parse("acme.mesh");

    public final Path dataDir;
    public final MutableClock clock;
    public final FederationIdentity identity;
    private Controller controller;
    private final Duration agentGracePeriod;
    private final List<ManagedChannel> channels = new ArrayList<>();

    private TestFederation(Path dataDir, MutableClock clock, Duration agentGracePeriod, Duration clusterStaleGrace)
            throws Exception {
        this(dataDir, clock, agentGracePeriod, clusterStaleGrace, c -> c, null);
    }

    private TestFederation(Path dataDir, MutableClock clock, Duration agentGracePeriod, Duration clusterStaleGrace,
            java.util.function.UnaryOperator<ControllerConfig> customise, HttpEndpoint.Timeouts probeTimeouts)
            throws Exception {
        this(dataDir, clock, agentGracePeriod, clusterStaleGrace, customise, probeTimeouts, null, null);
    }

    private TestFederation(Path dataDir, MutableClock clock, Duration agentGracePeriod, Duration clusterStaleGrace,
            java.util.function.UnaryOperator<ControllerConfig> customise, HttpEndpoint.Timeouts probeTimeouts,
            FakeScheduler timer, Executor storeReads) throws Exception {
        this.timer = timer;
        this.storeReads = storeReads != null ? storeReads
                : timer != null ? ownStoreReads = Executors.newSingleThreadExecutor() : null;
        this.customise = customise;
        this.probeTimeouts = probeTimeouts;
        this.agentGracePeriod = agentGracePeriod;
        this.clusterStaleGrace = clusterStaleGrace;
        this.dataDir = dataDir;
        this.clock = clock;
        this.identity = FederationIdentity.initialise(dataDir, FEDERATION_TD, clock);
        start();
    }

    public static TestFederation start(Path dir) throws Exception {
        return start(dir, Duration.ofSeconds(30));
    }

    /** With a grace period after which a disconnected agent's workloads are marked unhealthy. */
    public static TestFederation start(Path dir, Duration agentGracePeriod) throws Exception {
        return new TestFederation(dir, new MutableClock(Instant.now()), agentGracePeriod, null);
    }

    /** With a port quota per member other than the default. */
    public static TestFederation withMemberPortQuota(Path dir, int memberPortQuota) throws Exception {
        return new TestFederation(dir, new MutableClock(Instant.now()), Duration.ofSeconds(30), null,
                c -> c.withMemberPortQuota(memberPortQuota), null);
    }

    /** Also with the grace period of a member cluster whose API server is unreachable. */
    public static TestFederation start(Path dir, Duration agentGracePeriod, Duration clusterStaleGrace)
            throws Exception {
        return new TestFederation(dir, new MutableClock(Instant.now()), agentGracePeriod, clusterStaleGrace);
    }

    private final Duration clusterStaleGrace;
    private final java.util.function.UnaryOperator<ControllerConfig> customise;
    private ControllerConfig config; // the running controller's

    /** With settings of the test's own, e.g. {@code c -> c.withConfigStreamsPerIdentity(2)}. */
    public static TestFederation start(Path dir, java.util.function.UnaryOperator<ControllerConfig> customise)
            throws Exception {
        return new TestFederation(dir, new MutableClock(Instant.now()), Duration.ofSeconds(30), null, customise, null);
    }

    private final HttpEndpoint.Timeouts probeTimeouts; // null: default timeouts, no probe listener

    /** With the plain-HTTP probe listener on, and both HTTP listeners' timeouts set to {@code httpTimeouts}. */
    public static TestFederation startWithProbes(Path dir, HttpEndpoint.Timeouts httpTimeouts) throws Exception {
        return new TestFederation(dir, new MutableClock(Instant.now()), Duration.ofSeconds(30), null, c -> c,
                httpTimeouts);
    }

    private final FakeScheduler timer; // null: real time
    private final Executor storeReads; // null: the controller's own
    private ExecutorService ownStoreReads;

    /**
     * With time that moves only by {@link #forwardTime}: every delay in the controller (push debounce, agent grace
     * period, cluster syncs and grace) waits for the test; pushes need {@code forwardTime(PUSH_DEBOUNCE)}.
     */
    public static TestFederation withFakeTime(Path dir, Duration agentGracePeriod) throws Exception {
        return withFakeTime(dir, agentGracePeriod, null);
    }

    /** As {@link #withFakeTime(Path, Duration)}, with the config streams' store reads on {@code storeReads}. */
    public static TestFederation withFakeTime(Path dir, Duration agentGracePeriod, Executor storeReads)
            throws Exception {
        return new TestFederation(dir, new MutableClock(Instant.now()), agentGracePeriod, null, c -> c, null,
                new FakeScheduler(), storeReads);
    }

    /** The debounce of config pushes in every test federation. */
    public static final Duration PUSH_DEBOUNCE = Duration.ofMillis(20);

    /** The fake timer of a federation started {@link #withFakeTime}. */
    public FakeScheduler timer() {
        return timer;
    }

    /** Moves the controller's clock and its fake timer together, running every task that became due. */
    public void forwardTime(Duration d) {
        if (timer == null) {
            throw new IllegalStateException("this federation runs on real time; start it with withFakeTime");
        }
        clock.advance(d);
        timer.forwardTime(d);
    }

    private void start() throws Exception {
        start(0, 0, 0);
    }

    private void start(int grpcPort, int httpPort, int probePort) throws Exception {
        config = customise.apply(new ControllerConfig(dataDir,
                new InetSocketAddress("127.0.0.1", grpcPort), new InetSocketAddress("127.0.0.1", httpPort), null,
                PUSH_DEBOUNCE, agentGracePeriod, clusterStaleGrace, null, null, 0,
                io.meshfed.controller.catalog.PortAllocations.DEFAULT_MEMBER_QUOTA,
                probeTimeouts == null ? null : new InetSocketAddress("127.0.0.1", probePort),
                ControllerConfig.DEFAULT_MAX_PODS_PER_CLUSTER, null));
        HttpEndpoint.Timeouts timeouts = probeTimeouts == null ? HttpEndpoint.Timeouts.DEFAULTS : probeTimeouts;
        controller = timer == null ? Controller.start(config, timeouts, clock)
                : Controller.start(config, timeouts, clock, timer, storeReads);
    }

    /**
     * Stops the controller (if still running) and starts it again on the same data directory and the same ports,
     * as a real restart does: state restored, clients reconnect to the address they know.
     */
    public void restart() throws Exception {
        int grpcPort = controller.grpcAddress().getPort();
        int httpPort = controller.httpAddress().getPort();
        int probePort = controller.probeAddress().map(InetSocketAddress::getPort).orElse(0);
        controller.close();
        start(grpcPort, httpPort, probePort);
    }

    public Controller controller() {
        return controller;
    }

    public InetSocketAddress address() {
        return controller.grpcAddress();
    }

    public BundleSet bundles() {
        return BundleSet.of(1, List.of(identity.bundle(FEDERATION_TD)));
    }

    /** An mTLS channel presenting {@code svid}, verifying the controller by the federation bundle. */
    public ManagedChannel channel(X509Svid svid) throws SSLException {
        TlsCredentials credentials = TlsCredentials.of(svid, bundles());
        SpiffeTrustManager trust = new SpiffeTrustManager(credentials,
                PeerAuthorizer.ids(Set.of(identity.controllerId())), clock);
        TlsProvider provider = TlsProvider.preferred();
        return track(NettyChannelBuilder.forAddress(address())
                .sslContext(GrpcSslContexts.configure(SpiffeTls.nettyClientBuilder(provider, trust,
                        new SpiffeKeyManager(credentials)), provider.netty()).build())
                .maxInboundMessageSize(64 * 1024 * 1024) // as nodes take snapshots (ControllerChannels)
                .build());
    }

    /** A channel without a client certificate that trusts the controller by a root pin (as a joiner does). */
    public ManagedChannel joinChannel(String pin) throws SSLException {
        TlsProvider provider = TlsProvider.preferred();
        return track(NettyChannelBuilder.forAddress(address())
                .sslContext(GrpcSslContexts.configure(SpiffeTls.nettyClientBuilder(provider,
                        new PinnedRootTrustManager(pin, MeshfedIds.CONTROLLER_PATH, clock), null),
                        provider.netty()).build())
                .build());
    }

    private ManagedChannel track(ManagedChannel channel) {
        synchronized (channels) {
            channels.add(channel);
        }
        return channel;
    }

    public X509Svid adminSvid() {
        return identity.issueLocal(identity.adminId(), Duration.ofHours(1));
    }

    /** An admin stub; each call gets its own 30 s deadline, so a stub may be kept for a long test. */
    public AdminServiceGrpc.AdminServiceBlockingStub admin() throws SSLException {
        return AdminServiceGrpc.newBlockingStub(channel(adminSvid())).withInterceptors(new io.grpc.ClientInterceptor() {
            @Override
            public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
                    io.grpc.CallOptions options, io.grpc.Channel next) {
                return next.newCall(method, options.withDeadlineAfter(30, TimeUnit.SECONDS));
            }
        });
    }

    /** An SVID of a member's trust domain, issued directly (tests that are not about joining). */
    public X509Svid memberSvid(String trustDomain, String path) {
        SpiffeId id = TrustDomain.parse(trustDomain).workload(path);
        recordJoined(id);
        return identity.issueLocal(id, Duration.ofHours(24));
    }

    /**
     * Replaces {@code member}'s endpoints as a Kubernetes member's connector records what it reads from
     * EndpointSlices: the controller read them itself, so peers reach them at their address in plain TCP (an agent's
     * report could not do that). For tests whose backends are plain servers.
     */
    public void clusterEndpoints(String member, io.meshfed.api.v1.WorkloadReport report) {
        var store = controller.store();
        store.transact(tx -> {
            var m = io.meshfed.controller.model.Records.get(tx, io.meshfed.controller.model.Kind.MEMBER, member,
                    io.meshfed.controller.model.MemberRecord.class).orElseThrow();
            var set = new io.meshfed.controller.model.WorkloadSetRecord(
                    io.meshfed.controller.model.ClusterRecord.workloadSetKey(member), member, m.network(),
                    report.getWorkloadsList().stream().map(w -> new io.meshfed.controller.model.WorkloadSetRecord
                            .Workload(w.getService(), w.getNamespace().isEmpty() ? "default" : w.getNamespace(),
                            w.getAddress(), w.getPort(), w.getHealthy(), w.getLocality(), null)).toList());
            io.meshfed.controller.model.Records.put(tx, io.meshfed.controller.model.Kind.WORKLOADS, set.agent(), set,
                    io.meshfed.controller.store.StoreTransaction.ANY);
            new io.meshfed.controller.catalog.PortAllocations(config.outboundPorts(), Integer.MAX_VALUE)
                    .reconcile(tx);
            return null;
        });
    }

    /** An SVID the federation's CA issued without a join: the controller has no record of it. */
    public X509Svid unjoinedSvid(String trustDomain, String path) {
        return identity.issueLocal(TrustDomain.parse(trustDomain).workload(path), Duration.ofHours(24));
    }

    /**
     * Records {@code id} as joined, unless a record of it exists, as a join would: its member (the one of its trust domain, when it exists yet) and
     * role from its path; an agent ({@code /ns/NS/vm/NAME}) may register any service of its namespace.
     */
    private void recordJoined(SpiffeId id) {
        Optional<MeshfedIds.Role> shape = MeshfedIds.roleOf(id);
        String role = shape.map(r -> switch (r) {
            case AGENT -> "ROLE_AGENT";
            case GATEWAY -> "ROLE_GATEWAY";
            case EDGE -> "ROLE_EDGE";
            default -> null;
        }).orElse(null);
        if (role == null) {
            return;
        }
        var store = controller.store();
        if (store.get(io.meshfed.controller.model.Kind.IDENTITY.storeName(), id.toString()).isPresent()) {
            return; // joined (or revoked) before: the record stays as it is
        }
        io.meshfed.controller.model.ServiceScope scope = MeshfedIds.hasRole(id, MeshfedIds.Role.AGENT)
                ? new io.meshfed.controller.model.ServiceScope(MeshfedIds.namespaceOf(id).orElseThrow(), List.of())
                : null;
        io.meshfed.controller.identity.TrustState.memberOf(store, id.trustDomain()).ifPresent(m -> store.transact(tx ->
                io.meshfed.controller.model.Records.put(tx, io.meshfed.controller.model.Kind.IDENTITY, id.toString(),
                        new io.meshfed.controller.model.IdentityRecord(id.toString(), m.name(), role, scope,
                                clock.millis(), 0),
                        io.meshfed.controller.store.StoreTransaction.ANY)));
    }

    /**
     * Networks {@code net0..} (gateway 127.0.1.(n+1):15443) and members {@code m0..} spread over them, each member
     * with trust domain {@code m<i>.acme.mesh}.
     */
    public void addNetworksAndMembers(int networks, int members) throws SSLException {
        var admin = admin();
        for (int n = 0; n < networks; n++) {
            admin.createNetwork(io.meshfed.api.v1.CreateNetworkRequest.newBuilder().setName("net" + n)
                    .setGatewayAddress("127.0.1." + (n + 1) + ":15443").build());
        }
        for (int m = 0; m < members; m++) {
            admin.addMember(io.meshfed.api.v1.AddMemberRequest.newBuilder().setName("m" + m).setType("vm")
                    .setNetwork("net" + (m % networks)).build());
        }
    }

    /** A join token; an agent's may register any service of namespace {@code default}. */
    public String token(String member, Role role) throws SSLException {
        if (role == Role.ROLE_AGENT) {
            return agentToken(member, "default");
        }
        return admin().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(member).setRole(role).build())
                .getToken();
    }

    /** An agent token for {@code namespace}: the named services ({@code name.namespace}), or any service of it. */
    public String agentToken(String member, String namespace, String... services) throws SSLException {
        return admin().createJoinToken(CreateJoinTokenRequest.newBuilder().setMember(member)
                .setRole(Role.ROLE_AGENT).setNamespace(namespace).addAllServices(List.of(services)).build())
                .getToken();
    }

    /** The pin part of a token. */
    public static String pinOf(String token) {
        return token.substring(token.lastIndexOf('.') + 1);
    }

    /** Joins with a new key; returns the response and the key the SVID belongs to. */
    public record Joined(JoinResponse response, KeyPair keys) {
        public X509Svid svid() {
            List<java.security.cert.X509Certificate> chain = response.getSvidChainList().stream()
                    .map(b -> io.meshfed.trust.Pem.certificateFromDer(b.toByteArray())).toList();
            return X509Svid.of(SpiffeId.parse(response.getSpiffeId()), chain, keys.getPrivate());
        }
    }

    public Joined join(String token, Role role, String member, String name, SpiffeId csrId) throws SSLException {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        JoinRequest.Builder request = JoinRequest.newBuilder().setToken(token).setRole(role).setMember(member)
                .setName(name).addAdvertisedAddresses("127.0.0.1:15443");
        if (csrId != null) {
            request.setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, csrId)));
        }
        JoinResponse response = JoinServiceGrpc.newBlockingStub(joinChannel(pinOf(token)))
                .withDeadlineAfter(30, TimeUnit.SECONDS).join(request.build());
        return new Joined(response, keys);
    }

    @Override
    public void close() {
        synchronized (channels) {
            channels.forEach(ManagedChannel::shutdownNow);
        }
        controller.close();
        if (ownStoreReads != null) {
            ownStoreReads.shutdownNow();
        }
    }
}
