package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A proxy's data path. Inbound (optional): one mTLS listener that routes by SNI and authorizes the peer's trust
 * domain (see {@link InboundHandler}). Outbound: one plain-TCP listener per entry of the route table, carried to the
 * target's upstreams. {@link #update} swaps in a new table live and opens and closes listeners to match; a listener
 * that cannot bind is logged and retried on the next update, the others keep working. {@link #close} drains: it
 * stops accepting, lets open connections finish for the drain timeout, then closes what is left.
 */
public final class MeshProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MeshProxy.class);

    private final EventLoopGroup group;
    private final ProxySettings settings;
    private final ProxyStats stats = new ProxyStats();
    private final UpstreamHealth health;
    private final Dialer dialer;
    private final AtomicReference<RouteTable> routes = new AtomicReference<>(RouteTable.empty());
    private final Map<InetSocketAddress, Channel> outboundListeners = new HashMap<>(); // guarded by this
    private final Set<InetSocketAddress> unbound = new HashSet<>(); // guarded by this
    private final ChannelGroup relayed = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel inbound;
    private final InboundPolicy policy = new RouteTablePolicy(routes::get);

    private MeshProxy(EventLoopGroup group, ProxySettings settings, SslContext serverTls, SslContext clientTls,
            InetSocketAddress inboundAddress, Clock clock) throws InterruptedException {
        this.group = group;
        this.settings = settings;
        this.health = new UpstreamHealth(clock, settings.baseEjection(), settings.maxEjection());
        TlsConnector tls = new TlsConnector(clientTls, settings.connectTimeout(), stats);
        UpstreamConnectors connectors = UpstreamConnectors.of(Map.of(
                Upstream.Hop.PLAIN, new PlainConnector(settings.connectTimeout()),
                Upstream.Hop.AGENT, tls,
                Upstream.Hop.GATEWAY, tls));
        this.dialer = new Dialer(connectors, health, settings.balancing(), stats);
        if (inboundAddress == null) {
            this.inbound = null;
            return;
        }
        Mapping<String, SslContext> sameForAll = name -> serverTls;
        this.inbound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new SniHandler(sameForAll),
                                new InboundHandler(sni -> Optional.ofNullable(routes.get().inbound().get(sni)),
                                        policy, dialer, stats,
                                        MeshProxy.this::relay));
                    }
                })
                .bind(inboundAddress).sync().channel();
    }

    /**
     * Starts the proxy with the identity in {@code credentials} (SVID and bundles, swappable live). Inbound peers and
     * upstreams are verified against the bundle of their own trust domain. {@code inboundAddress} may be null for a
     * proxy with outbound listeners only.
     */
    public static MeshProxy start(TlsCredentials credentials, InetSocketAddress inboundAddress, ProxySettings settings,
            Clock clock) throws SSLException, InterruptedException {
        requireNonNull(credentials, "credentials");
        requireNonNull(settings, "settings");
        TlsProvider provider = TlsProvider.preferred();
        SpiffeKeyManager keys = new SpiffeKeyManager(credentials);
        SpiffeTrustManager anyVerified = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), clock);
        SslContext server = SpiffeTls.nettyServerBuilder(provider, anyVerified, keys, ClientAuth.REQUIRE).build();
        SslContext client = SpiffeTls.nettyClientBuilder(provider, anyVerified, keys).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, NioIoHandler.newFactory());
        try {
            return new MeshProxy(group, settings, server, client, inboundAddress, clock);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    private void relay(Channel downstream, Channel upstream) {
        relayed.add(downstream);
        relayed.add(upstream);
        stats.active.incrementAndGet();
        downstream.closeFuture().addListener(f -> stats.active.decrementAndGet());
        Relay.join(downstream, upstream, stats, settings.idleTimeout());
    }

    /** The inbound listener's address; empty for an outbound-only proxy. */
    public Optional<InetSocketAddress> inboundAddress() {
        return Optional.ofNullable(inbound).map(c -> (InetSocketAddress) c.localAddress());
    }

    public ProxyStats stats() {
        return stats;
    }

    /** Upstreams ejected by passive health right now. */
    public int ejectedUpstreams() {
        return health.ejectedCount();
    }

    public RouteTable routes() {
        return routes.get();
    }

    /** The outbound listeners open now. */
    public synchronized Set<InetSocketAddress> outboundAddresses() {
        return Set.copyOf(outboundListeners.keySet());
    }

    /** Outbound listeners of the current table that could not bind (for example, the port is taken). */
    public synchronized Set<InetSocketAddress> unboundListeners() {
        return Set.copyOf(unbound);
    }

    /** Applies a table: new routes at once; outbound listeners opened and closed to match. */
    public synchronized void update(RouteTable next) {
        routes.set(requireNonNull(next, "next"));
        for (Iterator<Map.Entry<InetSocketAddress, Channel>> it = outboundListeners.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<InetSocketAddress, Channel> e = it.next();
            if (!next.outbound().containsKey(e.getKey())) {
                e.getValue().close().syncUninterruptibly();
                it.remove();
            }
        }
        unbound.clear();
        for (InetSocketAddress address : next.outbound().keySet()) {
            if (!outboundListeners.containsKey(address)) {
                try {
                    outboundListeners.put(address, openOutbound(address));
                } catch (RuntimeException e) {
                    unbound.add(address);
                    LOG.error("cannot listen on {} for {}: {}", address, next.outbound().get(address).name(),
                            e.getMessage());
                }
            }
        }
        Set<String> keys = new HashSet<>();
        next.inbound().values().forEach(t -> addKeys(t, keys));
        next.outbound().values().forEach(t -> addKeys(t, keys));
        health.retain(keys);
        LOG.info("applied config version {}: {} inbound route(s), {} outbound listener(s)", next.version(),
                next.inbound().size(), outboundListeners.size());
    }

    private static void addKeys(Target t, Set<String> keys) {
        t.tiers().forEach(tier -> tier.upstreams().forEach(u -> keys.add(u.key())));
    }

    private Channel openOutbound(InetSocketAddress address) {
        io.netty.channel.ChannelFuture bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Target target = routes.get().outbound().get(address);
                        if (target == null || !target.hasUpstreams()) {
                            stats.outboundUnroutable.increment();
                            ch.close();
                            return;
                        }
                        dialer.dial(ch, target, (upstream, u) -> {
                            stats.outboundCarried.increment();
                            relay(ch, upstream);
                        }, () -> {
                            stats.outboundUnroutable.increment();
                            ch.close();
                        });
                    }
                })
                .bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IllegalStateException(String.valueOf(bound.cause().getMessage()), bound.cause());
        }
        return bound.channel();
    }

    /** Stops accepting, waits up to the drain timeout for open connections to finish, then closes the rest. */
    @Override
    public synchronized void close() {
        outboundListeners.values().forEach(Channel::close);
        outboundListeners.clear();
        if (inbound != null) {
            inbound.close().syncUninterruptibly();
        }
        long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
        if (!relayed.isEmpty()) {
            LOG.info("draining {} open connection(s) for up to {} s", stats.active(),
                    settings.drainTimeout().toSeconds());
        }
        while (!relayed.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        relayed.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
