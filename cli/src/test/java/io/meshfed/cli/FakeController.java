package io.meshfed.cli;

import com.google.protobuf.Timestamp;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.AdminFiles;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CatalogEndpoint;
import io.meshfed.api.v1.CatalogNetwork;
import io.meshfed.api.v1.CatalogService;
import io.meshfed.api.v1.ControllerStatus;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.api.v1.JoinToken;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Member;
import io.meshfed.api.v1.MemberList;
import io.meshfed.api.v1.Network;
import io.meshfed.api.v1.ServiceCatalog;
import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;

/**
 * An AdminService with fixed answers on real gRPC over mTLS, so CLI output is the same every run. It presents
 * {@code serverPath} (normally the controller's ID) and requires the admin's certificate.
 */
final class FakeController implements AutoCloseable {
    static final Timestamp T0 = Timestamp.newBuilder().setSeconds(Instant.parse("2026-11-22T10:00:00Z")
            .getEpochSecond()).build();

    final TestPki pki = TestPki.create("acme.mesh", Instant.now());
    final Path home;
    private final Server server;

    FakeController(Path home, String serverPath) throws Exception {
        this.home = home;
        X509Svid controller = pki.svid(serverPath);
        TlsCredentials credentials = TlsCredentials.of(controller, BundleSet.of(pki.bundle()));
        TlsProvider provider = TlsProvider.preferred();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.configure(SpiffeTls.nettyServerBuilder(provider,
                        new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), Clock.systemUTC()),
                        new SpiffeKeyManager(credentials), ClientAuth.REQUIRE), provider.netty()).build())
                .addService(new Service())
                .build().start();
        writeHome(((InetSocketAddress) server.getListenSockets().get(0)).getPort());
    }

    void writeHome(int port) throws Exception {
        Files.createDirectories(home);
        SvidFiles.write(pki.svid("/meshfed/admin"), home.resolve(AdminFiles.CERTIFICATE), home.resolve(AdminFiles.KEY));
        Files.writeString(home.resolve(AdminFiles.BUNDLE), SpiffeBundleJson.encode(pki.bundle()));
        Files.writeString(home.resolve(AdminFiles.CONFIG),
                "{\"controllerAddress\": \"127.0.0.1:" + port + "\", \"trustDomain\": \"acme.mesh\"}\n");
    }

    Map<String, String> env() {
        return Map.of(AdminFiles.HOME_VARIABLE, home.toString());
    }

    @Override
    public void close() {
        server.shutdownNow();
    }

    private static final class Service extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void createNetwork(CreateNetworkRequest r, StreamObserver<Network> out) {
            if (r.getGatewayMembersList().contains("ghost")) {
                out.onError(Status.FAILED_PRECONDITION.withDescription("gateway member 'ghost' does not exist; add it"
                        + " first with: meshfed member add ghost --type vm --network " + r.getName()).asRuntimeException());
                return;
            }
            out.onNext(Network.newBuilder().setName(r.getName()).setGatewayAddress(r.getGatewayAddress())
                    .setTunnelAddress(r.getTunnelAddress())
                    .addAllGatewayMembers(r.getGatewayMembersList()).build());
            out.onCompleted();
        }

        @Override
        public void listNetworks(ListRequest r, StreamObserver<io.meshfed.api.v1.NetworkList> out) {
            out.onNext(io.meshfed.api.v1.NetworkList.newBuilder()
                    .addNetworks(Network.newBuilder().setName("east").setGatewayAddress("127.0.1.1:15443")
                            .addGatewayMembers("east"))
                    .addNetworks(Network.newBuilder().setName("west").addGatewayMembers("west")
                            .addGatewayMembers("west-b"))
                    .addNetworks(Network.newBuilder().setName("north"))
                    .build());
            out.onCompleted();
        }

        @Override
        public void addMember(AddMemberRequest r, StreamObserver<Member> out) {
            if (r.getNetwork().equals("nowhere")) {
                out.onError(Status.FAILED_PRECONDITION.withDescription("network 'nowhere' does not exist; create it"
                        + " with: meshfed network create nowhere").asRuntimeException());
                return;
            }
            out.onNext(Member.newBuilder().setName(r.getName()).setType(r.getType()).setNetwork(r.getNetwork())
                    .setTrustDomain(r.getName() + ".acme.mesh").addAllCidrs(r.getCidrsList()).build());
            out.onCompleted();
        }

        @Override
        public void listMembers(ListRequest r, StreamObserver<MemberList> out) {
            out.onNext(MemberList.newBuilder()
                    .addMembers(Member.newBuilder().setName("east").setType("vm").setNetwork("east")
                            .setTrustDomain("east.acme.mesh").addIdentities("spiffe://east.acme.mesh/meshfed/gateway/gw"))
                    .addMembers(Member.newBuilder().setName("west").setType("vm").setNetwork("west")
                            .setTrustDomain("west.acme.mesh"))
                    .build());
            out.onCompleted();
        }

        @Override
        public void createJoinToken(CreateJoinTokenRequest r, StreamObserver<JoinToken> out) {
            if (r.getMember().equals("ghost")) {
                out.onError(Status.NOT_FOUND.withDescription("member 'ghost' does not exist").asRuntimeException());
                return;
            }
            out.onNext(JoinToken.newBuilder().setToken("mf1.0123456789abcdef.SECRET.PIN").setId("0123456789abcdef")
                    .setMember(r.getMember()).setRole(r.getRole()).setExpiresAt(T0)
                    .addAllServices(r.getServicesList()).setNamespace(r.getNamespace()).build());
            out.onCompleted();
        }

        @Override
        public void export(ExportRequest r, StreamObserver<ExportState> out) {
            out.onNext(ExportState.newBuilder().setService(r.getService()).setNamespace(r.getNamespace())
                    .setToAll(r.getToAll()).addAllToMembers(r.getToMembersList())
                    .addAllFailoverNetworks(r.getFailoverNetworksList()).build());
            out.onCompleted();
        }

        @Override
        public void unexport(ExportRequest r, StreamObserver<ExportState> out) {
            out.onNext(ExportState.newBuilder().setService(r.getService()).setNamespace(r.getNamespace()).build());
            out.onCompleted();
        }

        @Override
        public void listServices(ListRequest r, StreamObserver<ServiceCatalog> out) {
            out.onNext(ServiceCatalog.newBuilder().addServices(CatalogService.newBuilder().setName("hello")
                    .setNamespace("demo").addMembers("east")
                    .setExport(ExportState.newBuilder().setService("hello").setNamespace("demo").addToMembers("west"))
                    .addNetworks(CatalogNetwork.newBuilder().setNetwork("east")
                            .addEndpoints(CatalogEndpoint.newBuilder().setAddress("10.0.1.5").setPort(8080)
                                    .setMember("east").setHealthy(true))
                            .addEndpoints(CatalogEndpoint.newBuilder().setAddress("10.0.1.6").setPort(8080)
                                    .setMember("east").setHealthy(false)))
                    .addOutboundPorts(io.meshfed.api.v1.OutboundPort.newBuilder().setServicePort(8080)
                            .setListenPort(20000).setNetwork("west"))
                    .addOutboundPorts(io.meshfed.api.v1.OutboundPort.newBuilder().setServicePort(8080)
                            .setListenPort(20000).setNetwork("north")))
                    .build());
            out.onCompleted();
        }

        private final java.util.Map<String, io.meshfed.api.v1.Route> routes = new java.util.TreeMap<>();

        @Override
        public void applyRoutes(io.meshfed.api.v1.RouteSet r, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
            r.getRoutesList().forEach(x -> routes.put(x.getId(), x));
            out.onNext(r);
            out.onCompleted();
        }

        @Override
        public void listRoutes(ListRequest r, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
            out.onNext(io.meshfed.api.v1.RouteSet.newBuilder().addAllRoutes(routes.values()).build());
            out.onCompleted();
        }

        @Override
        public void deleteRoute(io.meshfed.api.v1.DeleteRouteRequest r,
                StreamObserver<io.meshfed.api.v1.RouteSet> out) {
            if (routes.remove(r.getId()) == null) {
                out.onError(io.grpc.Status.NOT_FOUND.withDescription("route '" + r.getId() + "' does not exist")
                        .asRuntimeException());
                return;
            }
            listRoutes(ListRequest.getDefaultInstance(), out);
        }

        private final java.util.Map<String, io.meshfed.api.v1.IdentityInfo> identities = new java.util.TreeMap<>(
                java.util.Map.of(
                        "spiffe://east.acme.mesh/meshfed/gateway/gw", io.meshfed.api.v1.IdentityInfo.newBuilder()
                                .setSpiffeId("spiffe://east.acme.mesh/meshfed/gateway/gw").setMember("east")
                                .setRole(io.meshfed.api.v1.Role.ROLE_GATEWAY).setJoinedAt(T0).build(),
                        "spiffe://east.acme.mesh/ns/demo/vm/vm-1", io.meshfed.api.v1.IdentityInfo.newBuilder()
                                .setSpiffeId("spiffe://east.acme.mesh/ns/demo/vm/vm-1").setMember("east")
                                .setRole(io.meshfed.api.v1.Role.ROLE_AGENT).setNamespace("demo")
                                .addServices("hello.demo").setJoinedAt(T0).build(),
                        "spiffe://west.acme.mesh/ns/demo/vm/vm-2", io.meshfed.api.v1.IdentityInfo.newBuilder()
                                .setSpiffeId("spiffe://west.acme.mesh/ns/demo/vm/vm-2").setMember("west")
                                .setRole(io.meshfed.api.v1.Role.ROLE_AGENT).setNamespace("demo").build()));

        @Override
        public synchronized void listIdentities(io.meshfed.api.v1.ListIdentitiesRequest r,
                StreamObserver<io.meshfed.api.v1.IdentityList> out) {
            if (r.getMember().equals("ghost")) {
                out.onError(Status.NOT_FOUND.withDescription("member 'ghost' does not exist; 'meshfed members'"
                        + " lists them").asRuntimeException());
                return;
            }
            out.onNext(io.meshfed.api.v1.IdentityList.newBuilder().addAllIdentities(identities.values().stream()
                    .filter(i -> r.getMember().isEmpty() || i.getMember().equals(r.getMember())).toList()).build());
            out.onCompleted();
        }

        @Override
        public synchronized void revokeIdentity(io.meshfed.api.v1.RevokeIdentityRequest r,
                StreamObserver<io.meshfed.api.v1.IdentityInfo> out) {
            io.meshfed.api.v1.IdentityInfo current = identities.get(r.getSpiffeId());
            if (current == null) {
                out.onError(Status.NOT_FOUND.withDescription("no identity " + r.getSpiffeId() + " joined this"
                        + " federation; 'meshfed identity list' shows those that did").asRuntimeException());
                return;
            }
            if (!current.getRevoked()) {
                current = current.toBuilder().setRevoked(true).setRevokedAt(Timestamp.newBuilder()
                        .setSeconds(T0.getSeconds() + 3600)).build();
                identities.put(r.getSpiffeId(), current);
            }
            out.onNext(current);
            out.onCompleted();
        }

        @Override
        public void status(ListRequest r, StreamObserver<ControllerStatus> out) {
            out.onNext(ControllerStatus.newBuilder().setTrustDomain("acme.mesh").setStoreRevision(42).setStartedAt(T0)
                    .addSubscribers(SubscriberStatus.newBuilder().setSpiffeId("spiffe://east.acme.mesh/meshfed/gateway/gw")
                            .setMember("east").setNetwork("east").setAckedVersion("0a1b2c").setSentVersion("0a1b2c")
                            .setConnectedSince(T0).setTakesDeltas(true).setWholePushes(1).setDeltaPushes(7))
                    .addSubscribers(SubscriberStatus.newBuilder().setSpiffeId("spiffe://west.acme.mesh/meshfed/gateway/gw")
                            .setMember("west").setNetwork("west").setAckedVersion("0a1b2c").setSentVersion("3d4e5f")
                            .setLagMs(1500).setLastError("bad route").setConnectedSince(T0).setWholePushes(3))
                    .setOutboundPortRange("20000-32767")
                    .addOutboundPortShortfalls(io.meshfed.api.v1.OutboundPortShortfall.newBuilder().setNetwork("west")
                            .setExhausted(232).setOverQuota(1).addFirst("8080.svc-12768.demo")
                            .addFirst("8080.svc-12769.demo"))
                    .build());
            out.onCompleted();
        }
    }
}
