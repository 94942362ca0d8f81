package io.meshfed.gateway;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.Mapping;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The east-west gateway's data path. Inbound: one mTLS listener that routes by SNI (see {@link InboundHandler}).
 * Outbound: one plain-TCP listener per imported service port, on the port the controller allocated, that opens mTLS
 * to the destination network's gateway with the service's SNI, trying the next gateway when one does not answer.
 * {@link #update} swaps in a new snapshot live; listeners are opened and closed to match it.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
    static final int CONNECT_TIMEOUT_MILLIS = 3_000;

    private final EventLoopGroup group;
    private final SslContext serverTls;
    private final SslContext clientTls;
    private final InetAddress outboundBind;
    private final AtomicReference<Routes> routes = new AtomicReference<>(Routes.empty());
    private final Map<RefusalReason, LongAdder> refusals = new EnumMap<>(RefusalReason.class);
    private final Map<Integer, Channel> outboundListeners = new HashMap<>(); // guarded by this
    private final LongAdder inboundRouted = new LongAdder();
    private final LongAdder outboundDialed = new LongAdder();
    private final Channel inbound;

    private Gateway(EventLoopGroup group, SslContext serverTls, SslContext clientTls, InetSocketAddress inboundAddress,
            InetAddress outboundBind) throws InterruptedException {
        this.group = group;
        this.serverTls = serverTls;
        this.clientTls = clientTls;
        this.outboundBind = outboundBind;
        for (RefusalReason r : RefusalReason.values()) {
            refusals.put(r, new LongAdder());
        }
        Mapping<String, SslContext> sameForAll = name -> serverTls;
        this.inbound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new SniHandler(sameForAll),
                                new InboundHandler(routes::get, r -> refusals.get(r).increment(),
                                        inboundRouted::increment, CONNECT_TIMEOUT_MILLIS));
                    }
                })
                .bind(inboundAddress).sync().channel();
    }

    /**
     * Starts the inbound listener on {@code inboundAddress}; outbound listeners bind to {@code outboundBind}.
     * Peers of the inbound listener are verified against the credentials' bundle set; the gateways this one dials
     * must present a gateway identity ({@code /meshfed/gateway/...}).
     */
    public static Gateway start(TlsCredentials credentials, InetSocketAddress inboundAddress, InetAddress outboundBind,
            Clock clock) throws SSLException, InterruptedException {
        requireNonNull(credentials, "credentials");
        TlsProvider provider = TlsProvider.preferred();
        SpiffeKeyManager keys = new SpiffeKeyManager(credentials);
        SslContext server = SpiffeTls.nettyServerBuilder(provider,
                new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), clock), keys, ClientAuth.REQUIRE)
                .build();
        PeerAuthorizer gatewaysOnly = peer -> peer.path().startsWith("/meshfed/gateway/") ? Optional.empty()
                : Optional.of(peer + " is not an east-west gateway");
        SslContext client = SpiffeTls.nettyClientBuilder(provider,
                new SpiffeTrustManager(credentials, gatewaysOnly, clock), keys).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, NioIoHandler.newFactory());
        try {
            return new Gateway(group, server, client, inboundAddress, outboundBind);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public InetSocketAddress inboundAddress() {
        return (InetSocketAddress) inbound.localAddress();
    }

    /** Refusals so far, by reason. */
    public long refusals(RefusalReason reason) {
        return refusals.get(reason).sum();
    }

    /** Inbound connections routed to a workload so far. */
    public long inboundRouted() {
        return inboundRouted.sum();
    }

    /** Outbound connections carried to a remote gateway so far. */
    public long outboundDialed() {
        return outboundDialed.sum();
    }

    public String version() {
        return routes.get().version();
    }

    /** The outbound listener ports currently open. */
    public synchronized java.util.Set<Integer> outboundPorts() {
        return java.util.Set.copyOf(outboundListeners.keySet());
    }

    /** Whether the current routes let {@code trustDomain} reach a service here (any of its ports). */
    public boolean allows(String service, String namespace, String trustDomain) {
        return routes.get().allows(service, namespace, trustDomain);
    }

    /** Applies a snapshot: new routes at once; outbound listeners opened and closed to match. */
    public synchronized void update(ConfigSnapshot snapshot) throws InterruptedException {
        Routes next = Routes.of(snapshot);
        routes.set(next);
        for (Iterator<Map.Entry<Integer, Channel>> it = outboundListeners.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Channel> e = it.next();
            if (!next.outboundPorts().contains(e.getKey())) {
                e.getValue().close().sync();
                it.remove();
            }
        }
        for (int port : next.outboundPorts()) {
            if (!outboundListeners.containsKey(port)) {
                outboundListeners.put(port, openOutbound(port));
            }
        }
        LOG.info("applied config version {}: {} outbound listener(s)", next.version(), outboundListeners.size());
    }

    private Channel openOutbound(int port) throws InterruptedException {
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Optional<Routes.Outbound> route = routes.get().outbound(port);
                        if (route.isEmpty() || route.get().gateways().isEmpty()) {
                            ch.close();
                            return;
                        }
                        dial(ch, route.get(), route.get().gateways().iterator());
                    }
                })
                .bind(new InetSocketAddress(outboundBind, port)).sync().channel();
    }

    /** mTLS to the next remote gateway with the service's SNI; joins the two once the handshake succeeded. */
    private void dial(Channel local, Routes.Outbound route, Iterator<InetSocketAddress> gateways) {
        if (!gateways.hasNext()) {
            local.close();
            return;
        }
        InetSocketAddress gateway = gateways.next();
        ChannelFuture f = new Bootstrap().group(local.eventLoop()).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(ChannelOption.AUTO_READ, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        SslHandler ssl = clientTls.newHandler(ch.alloc(), route.sni(), gateway.getPort());
                        ch.pipeline().addLast(ssl, new io.netty.channel.ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent done) {
                                    ctx.pipeline().remove(this);
                                    if (done.isSuccess()) {
                                        outboundDialed.increment();
                                        ctx.channel().config().setAutoRead(false);
                                        Relay.join(local, ctx.channel());
                                    } else {
                                        LOG.warn("mTLS to gateway {} for {} failed: {}", gateway, route.sni(),
                                                done.cause().toString());
                                        ctx.close();
                                        local.close();
                                    }
                                }
                                ctx.fireUserEventTriggered(evt);
                            }
                        });
                    }
                })
                .connect(new InetSocketAddress(gateway.getHostString(), gateway.getPort()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                LOG.warn("gateway {} for {} did not answer: {}", gateway, route.sni(), done.cause().toString());
                dial(local, route, gateways);
            }
        });
    }

    @Override
    public synchronized void close() {
        outboundListeners.values().forEach(Channel::close);
        outboundListeners.clear();
        inbound.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
