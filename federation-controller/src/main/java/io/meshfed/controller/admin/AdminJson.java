package io.meshfed.controller.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.controller.catalog.ExportOperations;
import io.meshfed.controller.errors.DomainException;
import io.meshfed.controller.identity.IdentityOperations;
import io.meshfed.controller.join.JoinTokenOperations;
import io.meshfed.controller.kubernetes.ClusterOperations;
import io.meshfed.controller.membership.MembershipService;
import io.meshfed.controller.routes.RouteOperations;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.status.StatusService;
import io.meshfed.trust.SpiffeId;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The admin API as JSON over HTTPS: {@code POST /v1/admin/<Method>} with the request message in proto3 JSON,
 * answering the response message, or {@code {"error": ..., "code": ...}} with the HTTP status of the gRPC code.
 */
public final class AdminJson implements HttpEndpoint.AdminHandler {
    private record Operation(Message prototype, Function<Message, Message> call) {}

    private final Map<String, Operation> operations;
    private final Predicate<SpiffeId> isAdmin;

    public AdminJson(MembershipService membership, JoinTokenOperations tokens, ExportOperations exports,
            StatusService status, RouteOperations routes, ClusterOperations clusters, IdentityOperations identities,
            Predicate<SpiffeId> isAdmin) {
        this.isAdmin = isAdmin;
        this.operations = Map.ofEntries(
                Map.entry("ApplyRoutes", new Operation(io.meshfed.api.v1.RouteSet.getDefaultInstance(),
                        m -> routes.apply((io.meshfed.api.v1.RouteSet) m))),
                Map.entry("ListRoutes", new Operation(ListRequest.getDefaultInstance(), m -> routes.list())),
                Map.entry("DeleteRoute", new Operation(io.meshfed.api.v1.DeleteRouteRequest.getDefaultInstance(),
                        m -> routes.delete((io.meshfed.api.v1.DeleteRouteRequest) m))),
                Map.entry("CreateNetwork", new Operation(CreateNetworkRequest.getDefaultInstance(),
                        m -> membership.createNetwork((CreateNetworkRequest) m))),
                Map.entry("ListNetworks", new Operation(ListRequest.getDefaultInstance(), m -> membership.listNetworks())),
                Map.entry("AddMember", new Operation(AddMemberRequest.getDefaultInstance(), m -> membership.addMember((AddMemberRequest) m))),
                Map.entry("ListMembers", new Operation(ListRequest.getDefaultInstance(), m -> membership.listMembers())),
                Map.entry("CreateJoinToken", new Operation(CreateJoinTokenRequest.getDefaultInstance(),
                        m -> tokens.create((CreateJoinTokenRequest) m))),
                Map.entry("Export", new Operation(ExportRequest.getDefaultInstance(), m -> exports.export((ExportRequest) m))),
                Map.entry("Unexport", new Operation(ExportRequest.getDefaultInstance(), m -> exports.unexport((ExportRequest) m))),
                Map.entry("ListServices", new Operation(ListRequest.getDefaultInstance(), m -> status.listServices())),
                Map.entry("Status", new Operation(ListRequest.getDefaultInstance(), m -> status.status())),
                Map.entry("RegisterCluster", new Operation(io.meshfed.api.v1.RegisterClusterRequest
                        .getDefaultInstance(), m -> clusters.register((io.meshfed.api.v1.RegisterClusterRequest) m))),
                Map.entry("UnregisterCluster", new Operation(io.meshfed.api.v1.UnregisterClusterRequest
                        .getDefaultInstance(), m -> clusters.unregister(
                                (io.meshfed.api.v1.UnregisterClusterRequest) m))),
                Map.entry("ListClusters", new Operation(ListRequest.getDefaultInstance(), m -> clusters.list())),
                Map.entry("ListIdentities", new Operation(io.meshfed.api.v1.ListIdentitiesRequest.getDefaultInstance(),
                        m -> identities.list((io.meshfed.api.v1.ListIdentitiesRequest) m))),
                Map.entry("RevokeIdentity", new Operation(io.meshfed.api.v1.RevokeIdentityRequest.getDefaultInstance(),
                        m -> identities.revoke((io.meshfed.api.v1.RevokeIdentityRequest) m))));
    }

    @Override
    public HttpEndpoint.Response handle(String method, String body, Optional<SpiffeId> caller) {
        if (caller.isEmpty() || !isAdmin.test(caller.get())) {
            return error(Status.Code.PERMISSION_DENIED, caller.isEmpty()
                    ? "the admin API needs the admin client certificate made by 'meshfed init'"
                    : caller.get() + " is not an admin identity");
        }
        Operation op = operations.get(method);
        if (op == null) {
            return error(Status.Code.NOT_FOUND, "no admin method '" + method + "'; known: "
                    + new java.util.TreeSet<>(operations.keySet()));
        }
        Message.Builder request = op.prototype().newBuilderForType();
        try {
            if (!body.isBlank()) {
                JsonFormat.parser().merge(body, request);
            }
        } catch (InvalidProtocolBufferException e) {
            return error(Status.Code.INVALID_ARGUMENT, "request body is not a valid " + method + " request: "
                    + e.getMessage());
        }
        try {
            Message response = op.call().apply(request.build());
            return new HttpEndpoint.Response(200, "application/json", JsonFormat.printer().print(response) + "\n");
        } catch (StatusRuntimeException e) {
            return error(e.getStatus().getCode(), e.getStatus().getDescription());
        } catch (DomainException e) {
            Status status = AdminServiceImpl.grpcStatus(e);
            return error(status.getCode(), status.getDescription());
        } catch (InvalidProtocolBufferException e) {
            return error(Status.Code.INTERNAL, e.getMessage());
        }
    }

    private static HttpEndpoint.Response error(Status.Code code, String message) {
        int http = switch (code) {
            case INVALID_ARGUMENT -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS -> 409;
            case FAILED_PRECONDITION -> 412;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE -> 503;
            default -> 500;
        };
        String json;
        try {
            json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                    Map.of("code", code.name(), "error", message == null ? code.name() : message));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            json = "{\"code\":\"" + code.name() + "\"}";
        }
        return new HttpEndpoint.Response(http, "application/json", json + "\n");
    }
}
