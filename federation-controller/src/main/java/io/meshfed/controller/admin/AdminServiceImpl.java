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
import io.meshfed.controller.authz.CallerPolicyOperations;
import io.meshfed.controller.catalog.ExportOperations;
import io.meshfed.controller.identity.IdentityOperations;
import io.meshfed.controller.join.JoinTokenOperations;
import io.meshfed.controller.connector.kubernetes.ClusterOperations;
import io.meshfed.controller.membership.MembershipService;
import io.meshfed.controller.routes.RouteOperations;
import io.meshfed.controller.status.StatusService;
import java.util.function.Supplier;

/** The admin API on gRPC: each call goes to the service that owns it. */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
    private final MembershipService membership;
    private final JoinTokenOperations tokens;
    private final ExportOperations exports;
    private final StatusService status;
    private final RouteOperations routes;
    private final ClusterOperations clusters;
    private final io.meshfed.controller.connector.consul.ConsulOperations consul;
    private final IdentityOperations identities;
    private final CallerPolicyOperations callers;
    private final io.meshfed.controller.rotation.RootRotations rotations;
    private final io.meshfed.controller.federation.FederationOperations federations;

    public AdminServiceImpl(MembershipService membership, JoinTokenOperations tokens, ExportOperations exports,
            StatusService status, RouteOperations routes, ClusterOperations clusters,
            io.meshfed.controller.connector.consul.ConsulOperations consul, IdentityOperations identities,
            CallerPolicyOperations callers, io.meshfed.controller.rotation.RootRotations rotations,
            io.meshfed.controller.federation.FederationOperations federations) {
        this.rotations = requireNonNull(rotations, "rotations");
        this.federations = requireNonNull(federations, "federations");
        this.membership = requireNonNull(membership, "membership");
        this.tokens = requireNonNull(tokens, "tokens");
        this.exports = requireNonNull(exports, "exports");
        this.status = requireNonNull(status, "status");
        this.routes = requireNonNull(routes, "routes");
        this.clusters = requireNonNull(clusters, "clusters");
        this.consul = requireNonNull(consul, "consul");
        this.identities = requireNonNull(identities, "identities");
        this.callers = requireNonNull(callers, "callers");
    }

    /** Answers with what {@code call} returns; what it throws the error mapping turns into the call's status. */
    static <T> void unary(StreamObserver<T> out, Supplier<T> call) {
        out.onNext(call.get());
        out.onCompleted();
    }

    @Override
    public void createNetwork(CreateNetworkRequest request, StreamObserver<Network> out) {
        unary(out, () -> membership.createNetwork(request));
    }

    @Override
    public void listNetworks(ListRequest request, StreamObserver<NetworkList> out) {
        unary(out, membership::listNetworks);
    }

    @Override
    public void addMember(AddMemberRequest request, StreamObserver<Member> out) {
        unary(out, () -> membership.addMember(request));
    }

    @Override
    public void listMembers(ListRequest request, StreamObserver<MemberList> out) {
        unary(out, membership::listMembers);
    }

    @Override
    public void createJoinToken(CreateJoinTokenRequest request, StreamObserver<JoinToken> out) {
        unary(out, () -> tokens.create(request));
    }

    @Override
    public void export(ExportRequest request, StreamObserver<ExportState> out) {
        unary(out, () -> exports.export(request));
    }

    @Override
    public void unexport(ExportRequest request, StreamObserver<ExportState> out) {
        unary(out, () -> exports.unexport(request));
    }

    @Override
    public void listServices(ListRequest request, StreamObserver<ServiceCatalog> out) {
        unary(out, status::listServices);
    }

    @Override
    public void status(ListRequest request, StreamObserver<ControllerStatus> out) {
        unary(out, status::status);
    }

    @Override
    public void applyRoutes(io.meshfed.api.v1.RouteSet request, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
        unary(out, () -> routes.apply(request));
    }

    @Override
    public void listRoutes(io.meshfed.api.v1.ListRequest request, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
        unary(out, routes::list);
    }

    @Override
    public void deleteRoute(io.meshfed.api.v1.DeleteRouteRequest request,
            StreamObserver<io.meshfed.api.v1.RouteSet> out) {
        unary(out, () -> routes.delete(request));
    }

    @Override
    public void registerCluster(io.meshfed.api.v1.RegisterClusterRequest request,
            StreamObserver<io.meshfed.api.v1.ClusterState> out) {
        unary(out, () -> clusters.register(request));
    }

    @Override
    public void unregisterCluster(io.meshfed.api.v1.UnregisterClusterRequest request,
            StreamObserver<io.meshfed.api.v1.ClusterState> out) {
        unary(out, () -> clusters.unregister(request));
    }

    @Override
    public void registerConsul(io.meshfed.api.v1.RegisterConsulRequest request,
            StreamObserver<io.meshfed.api.v1.ConsulState> out) {
        unary(out, () -> consul.register(request));
    }

    @Override
    public void unregisterConsul(io.meshfed.api.v1.UnregisterConsulRequest request,
            StreamObserver<io.meshfed.api.v1.ConsulState> out) {
        unary(out, () -> consul.unregister(request));
    }

    @Override
    public void listConsul(io.meshfed.api.v1.ListRequest request, StreamObserver<io.meshfed.api.v1.ConsulList> out) {
        unary(out, consul::list);
    }

    @Override
    public void listIdentities(io.meshfed.api.v1.ListIdentitiesRequest request,
            StreamObserver<io.meshfed.api.v1.IdentityList> out) {
        unary(out, () -> identities.list(request));
    }

    @Override
    public void revokeIdentity(io.meshfed.api.v1.RevokeIdentityRequest request,
            StreamObserver<io.meshfed.api.v1.IdentityInfo> out) {
        unary(out, () -> identities.revoke(request));
    }

    @Override
    public void listClusters(ListRequest request, StreamObserver<io.meshfed.api.v1.ClusterList> out) {
        unary(out, clusters::list);
    }

    @Override
    public void putCallerPolicy(io.meshfed.api.v1.CallerPolicyRequest request,
            StreamObserver<io.meshfed.api.v1.CallerPolicy> out) {
        unary(out, () -> callers.put(request));
    }

    @Override
    public void listCallerPolicies(ListRequest request, StreamObserver<io.meshfed.api.v1.CallerPolicyList> out) {
        unary(out, callers::list);
    }

    @Override
    public void deleteCallerPolicy(io.meshfed.api.v1.DeleteCallerPolicyRequest request,
            StreamObserver<io.meshfed.api.v1.CallerPolicy> out) {
        unary(out, () -> callers.delete(request));
    }

    @Override
    public void rotateTrustDomain(io.meshfed.api.v1.RotateTrustDomainRequest request,
            StreamObserver<io.meshfed.api.v1.TrustRotation> out) {
        unary(out, () -> rotations.rotate(request));
    }

    @Override
    public void listRotations(ListRequest request, StreamObserver<io.meshfed.api.v1.TrustRotationList> out) {
        unary(out, rotations::list);
    }

    @Override
    public void abortRotation(io.meshfed.api.v1.AbortRotationRequest request,
            StreamObserver<io.meshfed.api.v1.TrustRotation> out) {
        unary(out, () -> rotations.abort(request));
    }

    @Override
    public void federateTrustDomain(io.meshfed.api.v1.FederateTrustDomainRequest request,
            StreamObserver<io.meshfed.api.v1.FederationState> out) {
        unary(out, () -> federations.federate(request));
    }

    @Override
    public void listFederations(ListRequest request, StreamObserver<io.meshfed.api.v1.FederationList> out) {
        unary(out, federations::list);
    }

    @Override
    public void deleteFederation(io.meshfed.api.v1.DeleteFederationRequest request,
            StreamObserver<io.meshfed.api.v1.FederationState> out) {
        unary(out, () -> federations.delete(request));
    }
}
