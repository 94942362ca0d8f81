package io.meshfed.gateway;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.ConfigRequest;
import io.meshfed.api.v1.ConfigServiceGrpc;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ReadinessReport;
import io.meshfed.api.v1.RegistrationServiceGrpc;
import io.meshfed.api.v1.ReportAck;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A controller stand-in over real mTLS (the controller's SVID, clients verified against the given bundles) on
 * 127.0.0.1 (port 0, or a given one, so that a test can stop it and start it again where the gateway reconnects): it
 * sends one config snapshot on every config stream and records the ACK, and answers each
 * readiness report as the test says, by the call's number (1 first): OK, an error, or never (stalled, until the
 * caller's deadline ends it).
 */
final class StallingController implements AutoCloseable {
    enum Answer { OK, UNAVAILABLE, STALL }

    private final Server server;
    private final X509Svid svid;
    private final BundleSet bundles;
    private final ConfigSnapshot snapshot;
    private final IntFunction<Answer> readiness;
    final CompletableFuture<String> acked = new CompletableFuture<>();
    final BlockingQueue<ReadinessReport> readinessCalls = new LinkedBlockingQueue<>();
    private final List<StreamObserver<ReportAck>> stalled = new CopyOnWriteArrayList<>();

    StallingController(X509Svid controllerSvid, BundleSet bundles, ConfigSnapshot snapshot,
            IntFunction<Answer> readiness) throws Exception {
        this(controllerSvid, bundles, snapshot, readiness, 0);
    }

    StallingController(X509Svid controllerSvid, BundleSet bundles, ConfigSnapshot snapshot,
            IntFunction<Answer> readiness, int port) throws Exception {
        this.svid = controllerSvid;
        this.bundles = bundles;
        this.snapshot = snapshot;
        this.readiness = readiness;
        TlsCredentials credentials = TlsCredentials.of(controllerSvid, bundles);
        TlsProvider provider = TlsProvider.preferred();
        SpiffeTrustManager trust = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), Clock.systemUTC());
        int[] calls = {0};
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .sslContext(GrpcSslContexts.configure(SpiffeTls.nettyServerBuilder(provider, trust,
                        new SpiffeKeyManager(credentials), ClientAuth.REQUIRE), provider.netty()).build())
                .addService(new ConfigServiceGrpc.ConfigServiceImplBase() {
                    @Override
                    public StreamObserver<ConfigRequest> streamConfig(StreamObserver<ConfigSnapshot> out) {
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(ConfigRequest request) {
                                if (request.hasSubscribe()) {
                                    out.onNext(snapshot.toBuilder().setNonce("n1").build());
                                } else if (request.hasAck() && request.getAck().getNonce().equals("n1")) {
                                    acked.complete(request.getAck().getVersion());
                                }
                            }

                            @Override
                            public void onError(Throwable t) {
                            }

                            @Override
                            public void onCompleted() {
                                out.onCompleted();
                            }
                        };
                    }
                })
                .addService(new RegistrationServiceGrpc.RegistrationServiceImplBase() {
                    @Override
                    public void reportReadiness(ReadinessReport request, StreamObserver<ReportAck> out) {
                        readinessCalls.add(request);
                        int n;
                        synchronized (calls) {
                            n = ++calls[0];
                        }
                        switch (readiness.apply(n)) {
                            case OK -> {
                                out.onNext(ReportAck.getDefaultInstance());
                                out.onCompleted();
                            }
                            case UNAVAILABLE -> out.onError(Status.UNAVAILABLE
                                    .withDescription("controller busy").asRuntimeException());
                            case STALL -> stalled.add(out);
                        }
                    }
                })
                .build().start();
    }

    /**
     * A gateway of member east (a VM member) joined to a real controller, whose state directory then names a
     * stand-in (same identity) on {@code port} (0: any) that sends what the real controller sent the gateway, as
     * {@code edit} changes it, and answers readiness reports as {@code readiness} says.
     */
    static StallingController forGateway(io.meshfed.controller.testing.TestFederation federation,
            io.meshfed.client.StateDir state, IntFunction<Answer> readiness,
            java.util.function.UnaryOperator<ConfigSnapshot> edit, int port) throws Exception {
        var admin = federation.admin();
        admin.createNetwork(io.meshfed.api.v1.CreateNetworkRequest.newBuilder().setName("east").build());
        admin.addMember(io.meshfed.api.v1.AddMemberRequest.newBuilder().setName("east").setType("vm")
                .setNetwork("east").build());
        io.meshfed.client.Joiner.join("127.0.0.1:" + federation.address().getPort(),
                federation.token("east", io.meshfed.api.v1.Role.ROLE_GATEWAY),
                new io.meshfed.client.Joiner.Identity(io.meshfed.api.v1.Role.ROLE_GATEWAY, "east", "east-gw", null,
                        List.of("127.0.1.1:15443")), state, Clock.systemUTC());
        ConfigSnapshot snapshot;
        try (io.meshfed.controller.testing.TestSubscriber real = new io.meshfed.controller.testing.TestSubscriber(
                federation.channel(state.svid()))) {
            snapshot = real.awaitSnapshot(s -> true, java.time.Duration.ofSeconds(20));
        }
        BundleSet bundles = BundleSet.of(1, List.of(
                federation.identity.bundle(io.meshfed.controller.testing.TestFederation.FEDERATION_TD),
                federation.identity.bundle(io.meshfed.trust.TrustDomain.parse("east.acme.mesh"))));
        StallingController standIn = new StallingController(
                federation.identity.issueControllerSvid(java.time.Duration.ofHours(1)), bundles,
                edit.apply(snapshot.toBuilder().clearNonce().clearSubscriber().build()), readiness, port);
        standIn.pointAt(state);
        return standIn;
    }

    /** Names this stand-in as the controller in {@code state}'s controller.json. */
    void pointAt(io.meshfed.client.StateDir state) throws Exception {
        io.meshfed.api.v1.ControllerInfo info = state.controller().toBuilder().clearAddresses()
                .addAddresses(address()).build();
        java.nio.file.Files.writeString(state.path().resolve("controller.json"),
                com.google.protobuf.util.JsonFormat.printer().print(info), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A new stand-in like this one (same identity, bundles, snapshot and answers) on the port this one had. */
    StallingController again(int port) throws Exception {
        return new StallingController(svid, bundles, snapshot, readiness, port);
    }

    int port() {
        return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
