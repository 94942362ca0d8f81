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
 * 127.0.0.1, port 0: it sends one config snapshot on every config stream and records the ACK, and answers each
 * readiness report as the test says, by the call's number (1 first): OK, an error, or never (stalled, until the
 * caller's deadline ends it).
 */
final class StallingController implements AutoCloseable {
    enum Answer { OK, UNAVAILABLE, STALL }

    private final Server server;
    final CompletableFuture<String> acked = new CompletableFuture<>();
    final BlockingQueue<ReadinessReport> readinessCalls = new LinkedBlockingQueue<>();
    private final List<StreamObserver<ReportAck>> stalled = new CopyOnWriteArrayList<>();

    StallingController(X509Svid controllerSvid, BundleSet bundles, ConfigSnapshot snapshot,
            IntFunction<Answer> readiness) throws Exception {
        TlsCredentials credentials = TlsCredentials.of(controllerSvid, bundles);
        TlsProvider provider = TlsProvider.preferred();
        SpiffeTrustManager trust = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), Clock.systemUTC());
        int[] calls = {0};
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
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

    String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
