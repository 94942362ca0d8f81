package io.meshfed.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.meshfed.controller.testing.TestFederation;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * gRPC through an edge route: a grpc-java client (h2c with prior knowledge, as grpc-java's plaintext channel speaks)
 * calls the edge gateway, whose route carries the call to a grpc-java server over h2 with TLS (Spring Cloud
 * Gateway's gRPC support; the upstream's certificate is trusted by the gateway's HTTP client settings). Answers,
 * streams, status codes and their messages, and trailing metadata all arrive as the server sent them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeGrpcTest {
    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };
    private static final MethodDescriptor<String, String> GREET = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Greeter/Greet")
            .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();
    private static final MethodDescriptor<String, String> COUNT = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING).setFullMethodName("test.Greeter/Count")
            .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();
    private static final Metadata.Key<String> TRAILER = Metadata.Key.of("x-greeter-trailer",
            Metadata.ASCII_STRING_MARSHALLER);

    @TempDir
    static Path dir;
    private Server server;
    private TestFederation federation;
    private ConfigurableApplicationContext edge;
    private ManagedChannel channel;

    @BeforeAll
    void start() throws Exception {
        EdgeFixtures.CertificateFiles upstreamCert = EdgeFixtures.selfSignedFiles(dir, "upstream");
        Path certFile = upstreamCert.certFile();
        Path keyFile = upstreamCert.keyFile();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.forServer(certFile.toFile(), keyFile.toFile()).build())
                .addService(io.grpc.ServerInterceptors.intercept(ServerServiceDefinition.builder("test.Greeter")
                        .addMethod(GREET, ServerCalls.asyncUnaryCall((name, answer) -> {
                            if (name.equals("nobody")) {
                                Metadata trailers = new Metadata();
                                trailers.put(TRAILER, "kept");
                                answer.onError(Status.NOT_FOUND.withDescription("no greeting for nobody")
                                        .asRuntimeException(trailers));
                                return;
                            }
                            answer.onNext("hello " + name);
                            answer.onCompleted();
                        }))
                        .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((to, answer) -> {
                            for (int i = 1; i <= Integer.parseInt(to); i++) {
                                answer.onNext(Integer.toString(i));
                            }
                            answer.onCompleted();
                        })).build(), new io.grpc.ServerInterceptor() {
                            @Override
                            public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
                                    Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
                                // Every answer that ends well ends with trailing metadata of the server's own.
                                return next.startCall(new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(
                                        call) {
                                    @Override
                                    public void close(Status status, Metadata trailers) {
                                        if (status.isOk()) {
                                            trailers.put(TRAILER, "after " + call.getMethodDescriptor()
                                                    .getBareMethodName());
                                        }
                                        super.close(status, trailers);
                                    }
                                }, headers);
                            }
                        }))
                .build().start();

        federation = EdgeFixtures.westWithRoute(dir.resolve("controller"), "greeter",
                "https://127.0.0.1:" + server.getPort(), "/test.Greeter/**");
        edge = EdgeFixtures.edge(federation, "west", dir.resolve("edge"),
                "--spring.cloud.gateway.server.webflux.httpclient.ssl.trusted-x509-certificates=" + certFile);
        int port = ((WebServerApplicationContext) edge).getWebServer().getPort();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> greet("warm-up").equals("hello warm-up"));
    }

    @AfterAll
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (edge != null) {
            edge.close();
        }
        federation.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private String greet(String name) {
        return ClientCalls.blockingUnaryCall(channel, GREET, CallOptions.DEFAULT.withDeadlineAfter(10,
                TimeUnit.SECONDS), name);
    }

    @Test
    void aUnaryCallIsAnsweredThroughTheEdgeWithTheServersTrailers() {
        java.util.concurrent.atomic.AtomicReference<Metadata> headers = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Metadata> trailers = new java.util.concurrent.atomic.AtomicReference<>();
        io.grpc.Channel capturing = io.grpc.ClientInterceptors.intercept(channel,
                io.grpc.stub.MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
        assertThat(ClientCalls.blockingUnaryCall(capturing, GREET, CallOptions.DEFAULT.withDeadlineAfter(10,
                TimeUnit.SECONDS), "edge")).isEqualTo("hello edge");
        assertThat(trailers.get().get(TRAILER)).isEqualTo("after Greet");
        assertThat(headers.get().get(TRAILER)).as("a trailer, not a header").isNull();
    }

    @Test
    void aServerStreamArrivesWholeAndEndsWithItsStatus() {
        Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channel, COUNT,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "5");
        List<String> got = new ArrayList<>();
        stream.forEachRemaining(got::add);
        assertThat(got).containsExactly("1", "2", "3", "4", "5");
    }

    @Test
    void aFailedCallKeepsItsStatusMessageAndTrailers() {
        assertThatThrownBy(() -> greet("nobody")).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(e.getStatus().getDescription()).isEqualTo("no greeting for nobody");
            assertThat(e.getTrailers()).isNotNull();
            assertThat(e.getTrailers().get(TRAILER)).isEqualTo("kept");
            assertThat(e.getTrailers().get(Metadata.Key.of("content-type", Metadata.ASCII_STRING_MARSHALLER)))
                    .as("headers of the answer stay headers").isNull();
        });
    }
}
