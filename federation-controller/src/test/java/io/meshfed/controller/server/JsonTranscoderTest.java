package io.meshfed.controller.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Network;
import io.meshfed.api.v1.NetworkList;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.trust.ca.CaException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The transcoder and the interceptor around a service whose methods throw what business code may throw: the JSON
 * answer and the gRPC status come from the same mapping, over a real gRPC server on 127.0.0.1.
 */
class JsonTranscoderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Lists one network; its other methods fail the ways the controller's can. */
    private static final class FailingAdmin extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void listNetworks(ListRequest request, StreamObserver<NetworkList> out) {
            out.onNext(NetworkList.newBuilder().addNetworks(Network.newBuilder().setName("east")).build());
            out.onCompleted();
        }

        @Override
        public void listMembers(ListRequest request, StreamObserver<io.meshfed.api.v1.MemberList> out) {
            throw new CaException("/data/ca/east/ca-key.pem: wrong key-encryption key");
        }

        @Override
        public void listRoutes(ListRequest request, StreamObserver<io.meshfed.api.v1.RouteSet> out) {
            throw new NotFoundException("route 'r' does not exist; see: meshfed route list");
        }
    }

    private static final JsonTranscoder JSON_ROUTES = new JsonTranscoder(ServerInterceptors.intercept(
            new FailingAdmin(), new ErrorMappingInterceptor()));

    @Test
    void answersTheResponseAsProtoJson() throws Exception {
        HttpEndpoint.Response ok = JSON_ROUTES.handle("ListNetworks", "", null);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(JSON.readTree(ok.body()).get("networks").get(0).get("name").asText()).isEqualTo("east");
        assertThat(JSON_ROUTES.methodNames()).hasSameSizeAs(AdminServiceGrpc.getServiceDescriptor().getMethods());
    }

    @Test
    void anUnexpectedExceptionIs500WithTheMappedBodyOnJsonAndInternalOnGrpc() throws Exception {
        HttpEndpoint.Response failed = JSON_ROUTES.handle("ListMembers", "{}", null);
        assertThat(failed.status()).isEqualTo(500);
        var body = JSON.readTree(failed.body());
        assertThat(body.get("code").asText()).isEqualTo("INTERNAL");
        assertThat(body.get("error").asText())
                .isEqualTo("internal error (CaException) in ListMembers; see the controller's log");

        HttpEndpoint.Response notFound = JSON_ROUTES.handle("ListRoutes", "{}", null);
        assertThat(notFound.status()).isEqualTo(404);
        assertThat(JSON.readTree(notFound.body()).get("error").asText()).startsWith("route 'r' does not exist");

        HttpEndpoint.Response unimplemented = JSON_ROUTES.handle("Status", "{}", null);
        assertThat(unimplemented.status()).isEqualTo(500);
        assertThat(JSON.readTree(unimplemented.body()).get("code").asText()).isEqualTo("UNIMPLEMENTED");

        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new FailingAdmin()).intercept(new ErrorMappingInterceptor()).build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            var stub = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> stub.listMembers(ListRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                        assertThat(e.getStatus().getDescription()).isEqualTo(body.get("error").asText());
                    });
            assertThatThrownBy(() -> stub.listRoutes(ListRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        } finally {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
