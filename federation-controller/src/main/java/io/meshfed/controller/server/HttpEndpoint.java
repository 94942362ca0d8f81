package io.meshfed.controller.server;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import javax.net.ssl.SSLSession;

/**
 * The controller's HTTP listeners, on Netty. {@link #https} serves operators and tools: {@code /healthz},
 * {@code /readyz}, Prometheus {@code /metrics} (no client certificate needed), and the JSON admin API under
 * {@code /v1/admin/} (an admin SVID needed); the controller's SVID serves it and clients that present a certificate
 * are verified like gRPC peers. {@link #probes} serves only the first three over plain HTTP, for kubelet probes and
 * scrapers that should not need the admin port.
 *
 * <p>Neither can be stalled: the TLS handshake, the request and the wait between requests each have a timeout
 * ({@link Timeouts}); request lines, headers and bodies are bounded; the event loop answers the probes itself and
 * hands admin calls and metrics to {@value #WORKERS} workers with a queue of {@value #QUEUE} (beyond it: 503).
 */
public final class HttpEndpoint implements AutoCloseable {
    /**
     * Handles one JSON admin call: method name, request body and the connection's TLS session (null without TLS)
     * → status code and response body.
     */
    public interface AdminHandler {
        Response handle(String method, String body, SSLSession session);
    }

    /** An HTTP response. */
    public record Response(int status, String contentType, String body) {}

    /**
     * How long a client may take: to finish the TLS handshake, to send a complete request (headers and body), and
     * to send the next request on a kept-alive connection.
     */
    public record Timeouts(Duration handshake, Duration request, Duration idle) {
        public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(10),
                Duration.ofSeconds(60));

        public Timeouts {
            for (Duration d : new Duration[] {requireNonNull(handshake, "handshake"),
                requireNonNull(request, "request"), requireNonNull(idle, "idle")}) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("HTTP timeouts must be positive, got " + d);
                }
            }
        }
    }

    /** The admin API's largest request body. */
    public static final int MAX_ADMIN_BODY = 1 << 20;
    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    static final int WORKERS = 4;
    static final int QUEUE = 64;

    private final EventLoopGroup group;
    private final ThreadPoolExecutor workers;
    private final Channel channel;

    private HttpEndpoint(InetSocketAddress address, SslContext tls, Timeouts timeouts, EndpointRoutes.Handlers handlers,
            int maxBody, String name) throws IOException {
        requireNonNull(address, "address");
        requireNonNull(timeouts, "timeouts");
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name, true), NioIoHandler.newFactory());
        workers = new ThreadPoolExecutor(WORKERS, WORKERS, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                new DefaultThreadFactory(name + "-worker", true));
        EndpointRoutes routes = new EndpointRoutes(handlers, workers);
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            SslHandler ssl = tls.newHandler(ch.alloc());
                            ssl.setHandshakeTimeoutMillis(timeouts.handshake().toMillis());
                            p.addLast("tls", ssl);
                        }
                        p.addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                                .setMaxInitialLineLength(MAX_INITIAL_LINE).setMaxHeaderSize(MAX_HEADERS)));
                        p.addLast("deadline", new io.meshfed.dataplane.RequestDeadline(timeouts.request(),
                                timeouts.idle(), tls != null));
                        p.addLast("aggregator", new BoundedAggregator(maxBody));
                        p.addLast("routes", routes);
                    }
                });
        ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            close(group, workers);
            Throwable cause = bound.cause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot listen on " + address + ": " + cause, cause);
        }
        channel = bound.channel();
    }

    /**
     * HTTPS with health, readiness, metrics, the JSON admin API and the SPIFFE bundle endpoint ({@code bundles}: a
     * trust domain's bundle JSON, empty when not served); {@code tls} asks for a client certificate.
     */
    public static HttpEndpoint https(InetSocketAddress address, SslContext tls, Timeouts timeouts,
            BooleanSupplier ready, Supplier<String> metrics, AdminHandler admin,
            java.util.function.Function<String, java.util.Optional<String>> bundles) throws IOException {
        return new HttpEndpoint(address, requireNonNull(tls, "tls"), timeouts,
                new EndpointRoutes.Handlers(ready, metrics, requireNonNull(admin, "admin"),
                        requireNonNull(bundles, "bundles")), MAX_ADMIN_BODY, "controller-https");
    }

    /**
     * The {@code https_web} SPIFFE bundle endpoint: HTTPS with a web PKI certificate ({@code tls} asks for no client
     * certificate), serving {@code GET /.well-known/spiffe-bundle/<td>} and health and readiness only.
     */
    public static HttpEndpoint bundleEndpoint(InetSocketAddress address, SslContext tls, Timeouts timeouts,
            BooleanSupplier ready, java.util.function.Function<String, java.util.Optional<String>> bundles)
            throws IOException {
        return new HttpEndpoint(address, requireNonNull(tls, "tls"), timeouts,
                new EndpointRoutes.Handlers(ready, null, null, requireNonNull(bundles, "bundles")), MAX_HEADERS,
                "controller-bundles");
    }

    /** Plain HTTP with health, readiness and metrics only. */
    public static HttpEndpoint probes(InetSocketAddress address, Timeouts timeouts, BooleanSupplier ready,
            Supplier<String> metrics) throws IOException {
        return new HttpEndpoint(address, null, timeouts, new EndpointRoutes.Handlers(ready, metrics, null, null),
                MAX_HEADERS, "controller-probes");
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        close(group, workers);
    }

    private static void close(EventLoopGroup group, ThreadPoolExecutor workers) {
        workers.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
