package io.meshfed.controller.admin;

import static java.util.Objects.requireNonNull;

import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
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
import io.meshfed.api.v1.NetworkList;
import io.meshfed.api.v1.ServiceCatalog;
import java.util.function.Supplier;

/** The gRPC face of {@link AdminOperations}; failures are mapped by {@code server.ErrorMappingInterceptor}. */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
    private final AdminOperations ops;

    public AdminServiceImpl(AdminOperations ops) {
        this.ops = requireNonNull(ops, "ops");
    }

    /** Answers with what {@code call} returns; what it throws the error mapping turns into the call's status. */
    static <T> void unary(StreamObserver<T> out, Supplier<T> call) {
        out.onNext(call.get());
        out.onCompleted();
    }

    @Override
    public void createNetwork(CreateNetworkRequest request, StreamObserver<Network> out) {
        unary(out, () -> ops.createNetwork(request));
    }

    @Override
    public void listNetworks(ListRequest request, StreamObserver<NetworkList> out) {
        unary(out, ops::listNetworks);
    }

    @Override
    public void addMember(AddMemberRequest request, StreamObserver<Member> out) {
        unary(out, () -> ops.addMember(request));
    }

    @Override
    public void listMembers(ListRequest request, StreamObserver<MemberList> out) {
        unary(out, ops::listMembers);
    }

    @Override
    public void createJoinToken(CreateJoinTokenRequest request, StreamObserver<JoinToken> out) {
        unary(out, () -> ops.createJoinToken(request));
    }

    @Override
    public void export(ExportRequest request, StreamObserver<ExportState> out) {
        unary(out, () -> ops.export(request));
    }

    @Override
    public void unexport(ExportRequest request, StreamObserver<ExportState> out) {
        unary(out, () -> ops.unexport(request));
    }

    @Override
    public void listServices(ListRequest request, StreamObserver<ServiceCatalog> out) {
        unary(out, ops::listServices);
    }

    @Override
    public void status(ListRequest request, StreamObserver<ControllerStatus> out) {
        unary(out, ops::status);
    }

    @Override
    public void applyRoutes(io.meshfed.api.v1.RouteSet request, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
        unary(out, () -> ops.applyRoutes(request));
    }

    @Override
    public void listRoutes(io.meshfed.api.v1.ListRequest request, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
        unary(out, ops::listRoutes);
    }

    @Override
    public void deleteRoute(io.meshfed.api.v1.DeleteRouteRequest request,
            StreamObserver<io.meshfed.api.v1.RouteSet> out) {
        unary(out, () -> ops.deleteRoute(request));
    }

    @Override
    public void registerCluster(io.meshfed.api.v1.RegisterClusterRequest request,
            StreamObserver<io.meshfed.api.v1.ClusterState> out) {
        unary(out, () -> ops.registerCluster(request));
    }

    @Override
    public void unregisterCluster(io.meshfed.api.v1.UnregisterClusterRequest request,
            StreamObserver<io.meshfed.api.v1.ClusterState> out) {
        unary(out, () -> ops.unregisterCluster(request));
    }

    @Override
    public void listIdentities(io.meshfed.api.v1.ListIdentitiesRequest request,
            StreamObserver<io.meshfed.api.v1.IdentityList> out) {
        unary(out, () -> ops.listIdentities(request));
    }

    @Override
    public void revokeIdentity(io.meshfed.api.v1.RevokeIdentityRequest request,
            StreamObserver<io.meshfed.api.v1.IdentityInfo> out) {
        unary(out, () -> ops.revokeIdentity(request));
    }

    @Override
    public void listClusters(ListRequest request, StreamObserver<io.meshfed.api.v1.ClusterList> out) {
        unary(out, ops::listClusters);
    }
}
