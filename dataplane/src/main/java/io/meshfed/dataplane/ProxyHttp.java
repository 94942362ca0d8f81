package io.meshfed.dataplane;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Plain HTTP for probes and Prometheus: {@code /healthz} (the process runs), {@code /readyz} (a config is in effect),
 * {@code /metrics}. Metric names start with {@code prefix} ({@code meshfed.gateway}, {@code meshfed.agent}). Carries
 * no traffic and no secrets, so it needs no TLS. On Netty, one event-loop thread that never blocks; request line,
 * headers and body are bounded and a request that does not arrive in time closes its connection ({@link Timeouts}),
 * so connections that never finish their headers cannot stall it.
 */
public final class ProxyHttp implements AutoCloseable {
    /** How long a client may take to send a complete request, and to send the next one on a kept-alive connection. */
    public record Timeouts(Duration request, Duration idle) {
        public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60));

        public Timeouts {
            if (request.isNegative() || request.isZero() || idle.isNegative() || idle.isZero()) {
                throw new IllegalArgumentException("HTTP timeouts must be positive, got " + request + " and " + idle);
            }
        }
    }

    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    static final int MAX_BODY = 8192;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final EventLoopGroup group;
    private final Channel channel;

    /** {@code more} registers the process's own meters. */
    public ProxyHttp(InetSocketAddress address, String prefix, MeshProxy proxy, BooleanSupplier connectedToController,
            Consumer<MeterRegistry> more) throws IOException {
        this(address, prefix, proxy, connectedToController, more, Timeouts.DEFAULTS);
    }

    /** As above, with the given timeouts. */
    public ProxyHttp(InetSocketAddress address, String prefix, MeshProxy proxy, BooleanSupplier connectedToController,
            Consumer<MeterRegistry> more, Timeouts timeouts) throws IOException {
        ProxyStats stats = proxy.stats();
        for (RefusalReason reason : RefusalReason.values()) {
            FunctionCounter.builder(prefix + ".refusals", stats, s -> s.refusals(reason))
                    .description("Inbound connections closed before reaching a workload, by reason"
                            + " (handshake and untrusted_peer are handshake failures)")
                    .tag("reason", reason.label()).register(registry);
        }
        for (UpstreamFailure failure : UpstreamFailure.values()) {
            FunctionCounter.builder(prefix + ".upstream.failures", stats, s -> s.upstreamFailures(failure))
                    .description("Dials to an upstream that failed, by reason").tag("reason", failure.label())
                    .register(registry);
        }
        for (AuthzReason reason : AuthzReason.values()) {
            FunctionCounter.builder("meshfed.authz.decisions", stats, s -> s.authzDecisions(reason))
                    .description("Authorization decisions on (caller, service), by decision and the rule that decided")
                    .tag("decision", reason.decision()).tag("reason", reason.label()).register(registry);
        }
        FunctionCounter.builder(prefix + ".policy.closed", stats, ProxyStats::policyClosed)
                .description("Open connections closed because a new policy no longer allows their caller")
                .register(registry);
        FunctionCounter.builder(prefix + ".inbound.routed", stats, ProxyStats::inboundRouted)
                .description("Inbound connections carried to an upstream").register(registry);
        FunctionCounter.builder(prefix + ".outbound.carried", stats, ProxyStats::outboundCarried)
                .description("Outbound-listener connections carried to an upstream").register(registry);
        FunctionCounter.builder(prefix + ".outbound.unroutable", stats, ProxyStats::outboundUnroutable)
                .description("Outbound-listener connections no upstream took").register(registry);
        FunctionCounter.builder(prefix + ".received", stats, ProxyStats::bytesFromDownstream)
                .baseUnit("bytes").description("Bytes read from downstream peers").register(registry);
        FunctionCounter.builder(prefix + ".sent", stats, ProxyStats::bytesFromUpstream)
                .baseUnit("bytes").description("Bytes from upstreams written back downstream").register(registry);
        FunctionCounter.builder(prefix + ".idle.closed", stats, ProxyStats::idleClosed)
                .description("Connections closed by the idle timeout").register(registry);
        Gauge.builder(prefix + ".connections.active", stats, ProxyStats::active)
                .description("Relayed connections open now").register(registry);
        Gauge.builder(prefix + ".upstreams.ejected", proxy, MeshProxy::ejectedUpstreams)
                .description("Upstreams ejected by passive health now").register(registry);
        Gauge.builder(prefix + ".config.applied", proxy, p -> p.routes().version().isEmpty() ? 0 : 1)
                .description("1 when a config snapshot is in effect").register(registry);
        Gauge.builder(prefix + ".controller.connected", () -> connectedToController.getAsBoolean() ? 1 : 0)
                .description("1 while the config stream to the controller is up").register(registry);
        registerTunnelMeters(registry, stats);
        more.accept(registry);
        Routes routes = new Routes(prefix, proxy, registry);
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(prefix + "-http", true),
                NioIoHandler.newFactory());
        ChannelFuture bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(MAX_INITIAL_LINE).setMaxHeaderSize(MAX_HEADERS)),
                                new RequestDeadline(timeouts.request(), timeouts.idle()),
                                new HttpObjectAggregator(MAX_BODY), routes);
                    }
                })
                .bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            registry.close();
            throw bound.cause() instanceof IOException io ? io
                    : new IOException("cannot listen on " + address + ": " + bound.cause(), bound.cause());
        }
        channel = bound.channel();
    }

    /**
     * The tunnel and handshake meters, named the same on every proxy (names are a contract):
     * {@code meshfed_tunnel_connections_total{direction}}, {@code meshfed_tunnel_streams_total{direction,result}},
     * {@code meshfed_tunnel_active_streams} and {@code meshfed_tls_handshakes_total{side}}.
     */
    private static void registerTunnelMeters(MeterRegistry registry, ProxyStats stats) {
        for (ProxyStats.Direction d : ProxyStats.Direction.values()) {
            FunctionCounter.builder("meshfed.tunnel.connections", stats, s -> s.tunnelConnections(d))
                    .description("Tunnel connections established (mTLS with ALPN h2, peer checked), by direction")
                    .tag("direction", d.label()).register(registry);
            for (String result : stats.tunnelStreamResults(d)) {
                FunctionCounter.builder("meshfed.tunnel.streams", stats, s -> s.tunnelStreams(d, result))
                        .description("Tunnel streams by direction and result (ok, or why not)")
                        .tag("direction", d.label()).tag("result", result).register(registry);
            }
        }
        Gauge.builder("meshfed.tunnel.active.streams", stats, ProxyStats::activeStreams)
                .description("Tunnel streams carrying a connection now, both directions").register(registry);
        for (ProxyStats.Side side : ProxyStats.Side.values()) {
            FunctionCounter.builder("meshfed.tls.handshakes", stats, s -> s.handshakes(side))
                    .description("TLS handshakes finished by the proxy, successful or not, by side")
                    .tag("side", side.label()).register(registry);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Answers on the event loop: every route reads memory only. */
    @ChannelHandler.Sharable
    private static final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final String prefix;
        private final MeshProxy proxy;
        private final PrometheusMeterRegistry registry;

        Routes(String prefix, MeshProxy proxy, PrometheusMeterRegistry registry) {
            this.prefix = prefix;
            this.proxy = proxy;
            this.registry = registry;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.decoderResult().isFailure()) {
                Throwable cause = request.decoderResult().cause();
                respond(ctx, false, cause instanceof TooLongFrameException ? 431 : 400,
                        cause instanceof TooLongFrameException ? "request line over " + MAX_INITIAL_LINE
                                + " bytes or headers over " + MAX_HEADERS + " bytes\n"
                                : "malformed HTTP request: " + cause.getMessage() + "\n");
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            String path = new QueryStringDecoder(request.uri()).path();
            switch (path) {
                case "/healthz" -> respond(ctx, keepAlive, 200, "ok\n");
                case "/readyz" -> {
                    String version = proxy.routes().version();
                    respond(ctx, keepAlive, version.isEmpty() ? 503 : 200, version.isEmpty() ? "no config yet\n"
                            : "ready, config " + version + "\n");
                }
                case "/metrics" -> {
                    String info = prefix.replace('.', '_') + "_config_info";
                    respond(ctx, keepAlive, 200, registry.scrape() + "# HELP " + info + " The config version in"
                            + " effect, as its label (the value is always 1).\n# TYPE " + info + " gauge\n" + info
                            + "{version=\"" + proxy.routes().version() + "\"} 1\n");
                }
                default -> respond(ctx, keepAlive, 404, "no such path: " + path
                        + "; this port serves /healthz, /readyz and /metrics\n");
            }
        }

        private static void respond(ChannelHandlerContext ctx, boolean keepAlive, int status, String body) {
            HttpReplies.send(ctx, keepAlive, status, "text/plain; charset=utf-8", body);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset or a broken request: the connection is of no further use
        }
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        registry.close();
    }
}
