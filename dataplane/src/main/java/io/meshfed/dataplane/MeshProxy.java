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
import io.meshfed.api.TunnelHeaders;
import io.netty.handler.ssl.ApplicationProtocolConfig;
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
import java.util.List;
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
    private final InboundPolicy rules = new RouteTablePolicy(routes::get);
    /** What every inbound listener asks: the table's policy, each decision counted. */
    private final InboundPolicy policy = new InboundPolicy() {
        @Override
        public CallerDecision decide(io.meshfed.api.ServiceSni service, io.meshfed.trust.SpiffeId caller) {
            return stats.decided(rules.decide(service, caller));
        }

        @Override
        public InboundPolicy uncounted() {
            return rules;
        }
    };
    private final CallerConnections admitted = new CallerConnections();
    private final TunnelListener tunnelListener;
    private final TunnelPool tunnels;
    /** Who the sources of outbound connections are (a gateway's attested pods); none for an agent or the edge. */
    private volatile SourceAttestation attestation = SourceAttestation.none();

    private MeshProxy(EventLoopGroup group, ProxySettings settings, Contexts tls, InetSocketAddress inboundAddress,
            InetSocketAddress tunnelAddress, Clock clock) throws InterruptedException {
        this.group = group;
        this.settings = settings;
        this.health = new UpstreamHealth(clock, settings.baseEjection(), settings.maxEjection());
        TlsConnector mtls = new TlsConnector(tls.client(), settings.connectTimeout(), stats);
        this.tunnels = new TunnelPool(tls.tunnelClient(), settings.tunnel(), settings.connectTimeout(), stats);
        UpstreamConnectors connectors = UpstreamConnectors.of(Map.of(
                Upstream.Hop.PLAIN, new PlainConnector(settings.connectTimeout()),
                Upstream.Hop.AGENT, mtls,
                Upstream.Hop.GATEWAY, mtls,
                Upstream.Hop.TUNNEL, new TunnelConnector(tunnels)));
        this.dialer = new Dialer(connectors, health, settings.balancing(), stats);
        Channel sni = null;
        try {
            sni = inboundAddress == null ? null : bindInbound(tls.server(), inboundAddress);
            this.tunnelListener = tunnelAddress == null ? null : TunnelListener.bind(group, tunnelAddress,
                    tls.tunnelServer(), settings.tunnel(), settings.drainTimeout(), new TunnelInbound(policy, admitted,
                            service -> Optional.ofNullable(routes.get().inbound().get(service)),
                            id -> routes.get().revoked().contains(id.toString()),
                            () -> routes.get().forwarders(), dialer, stats, this::relay, clock));
        } catch (InterruptedException | RuntimeException e) {
            if (sni != null) {
                sni.close().syncUninterruptibly();
            }
            throw e;
        }
        this.inbound = sni;
    }

    private Channel bindInbound(SslContext serverTls, InetSocketAddress inboundAddress) throws InterruptedException {
        Mapping<String, SslContext> sameForAll = name -> serverTls;
        return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new SniHandler(sameForAll),
                                new InboundHandler(sni -> Optional.ofNullable(routes.get().inbound().get(sni)),
                                        policy, admitted, dialer, stats,
                                        MeshProxy.this::relay));
                    }
                })
                .bind(inboundAddress).sync().channel();
    }

    /** The TLS contexts of a proxy, all from the same key and trust managers (so a renewal applies to all). */
    private record Contexts(SslContext server, SslContext client, SslContext tunnelServer, SslContext tunnelClient) {
        static Contexts of(TlsCredentials credentials, Clock clock) throws SSLException {
            TlsProvider provider = TlsProvider.preferred();
            SpiffeKeyManager keys = new SpiffeKeyManager(credentials);
            SpiffeTrustManager anyVerified = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), clock);
            ApplicationProtocolConfig h2 = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, TunnelHeaders.ALPN);
            return new Contexts(
                    SpiffeTls.nettyServerBuilder(provider, anyVerified, keys, ClientAuth.REQUIRE).build(),
                    SpiffeTls.nettyClientBuilder(provider, anyVerified, keys).build(),
                    SpiffeTls.nettyServerBuilder(provider, anyVerified, keys, ClientAuth.REQUIRE)
                            .applicationProtocolConfig(h2).build(),
                    SpiffeTls.nettyClientBuilder(provider, anyVerified, keys).applicationProtocolConfig(h2).build());
        }
    }

    /**
     * Starts the proxy with the identity in {@code credentials} (SVID and bundles, swappable live). Inbound peers and
     * upstreams are verified against the bundle of their own trust domain. {@code inboundAddress} may be null for a
     * proxy with outbound listeners only.
     */
    public static MeshProxy start(TlsCredentials credentials, InetSocketAddress inboundAddress, ProxySettings settings,
            Clock clock) throws SSLException, InterruptedException {
        return start(credentials, inboundAddress, null, settings, clock);
    }

    /**
     * As {@link #start(TlsCredentials, InetSocketAddress, ProxySettings, Clock)}, with a tunnel listener (HTTP/2
     * CONNECT over mTLS, see {@link TunnelListener}) on {@code tunnelAddress} when it is not null, which decides with
     * the same policy and routes as the SNI listener.
     */
    public static MeshProxy start(TlsCredentials credentials, InetSocketAddress inboundAddress,
            InetSocketAddress tunnelAddress, ProxySettings settings, Clock clock)
            throws SSLException, InterruptedException {
        requireNonNull(credentials, "credentials");
        requireNonNull(settings, "settings");
        Contexts tls = Contexts.of(credentials, clock);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, NioIoHandler.newFactory());
        try {
            return new MeshProxy(group, settings, tls, inboundAddress, tunnelAddress, clock);
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

    /** The tunnel listener's address; empty for a proxy without one. */
    public Optional<InetSocketAddress> tunnelAddress() {
        return Optional.ofNullable(tunnelListener).map(TunnelListener::address);
    }

    /**
     * Asks every connection of the tunnel listener to drain (GOAWAY): open streams finish, senders move new streams
     * to new connections, which the listener still accepts. For rebalancing; {@link #close} does it too.
     */
    public void goAwayTunnels() {
        if (tunnelListener != null) {
            tunnelListener.goAway();
        }
    }

    /** The tunnel listener's open connections (for tests); empty without one. */
    List<Channel> inboundTunnelChannels() {
        return tunnelListener == null ? List.of() : tunnelListener.connections();
    }

    /** Connections open on this proxy's tunnel listener now. */
    public int inboundTunnelConnections() {
        return tunnelListener == null ? 0 : tunnelListener.connectionCount();
    }

    /** Tunnel connections this proxy has open (or is opening) to other networks' tunnel listeners now. */
    public int outboundTunnelConnections() {
        return tunnels.connectionCount();
    }

    /** The inbound listener's address; empty for an outbound-only proxy. */
    public Optional<InetSocketAddress> inboundAddress() {
        return Optional.ofNullable(inbound).map(c -> (InetSocketAddress) c.localAddress());
    }

    /** The inbound connections let in, re-checked on every {@link #update}; tunnel streams register here too. */
    public CallerConnections callerConnections() {
        return admitted;
    }

    public ProxyStats stats() {
        return stats;
    }

    /** Upstreams ejected by passive health right now. */
    public int ejectedUpstreams() {
        return health.ejectedCount();
    }

    /** The source attestation of the current table (none for a proxy that was given none). */
    public SourceAttestation attestation() {
        return attestation;
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
        update(next, attestation);
    }

    /**
     * Applies a table and the source attestation that came with it (a gateway's attested pods): an outbound
     * connection from an attested source address travels, through a tunnel, on behalf of that workload's SPIFFE ID;
     * any other source travels as this proxy itself.
     */
    public synchronized void update(RouteTable next, SourceAttestation attested) {
        attestation = requireNonNull(attested, "attested");
        routes.set(requireNonNull(next, "next"));
        List<CallerDecision> closed = admitted.recheck(rules);
        stats.closedByPolicy(closed);
        if (!closed.isEmpty()) {
            LOG.info("config version {} no longer allows {} open connection(s): closed", next.version(), closed.size());
        }
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
                        AccessRecord record = AccessRecord.open(ch, "outbound");
                        Target target = routes.get().outbound().get(address);
                        if (target == null || !target.hasUpstreams()) {
                            stats.outboundUnroutable.increment();
                            record.refused(RefusalReason.UNKNOWN_SERVICE);
                            ch.close();
                            return;
                        }
                        // An attested pod's connection travels on its behalf; any other as this proxy.
                        DialCaller caller = DialCaller.client(ch, attestation.attest(ch.remoteAddress().getAddress()));
                        dialer.dial(ch, caller, target, (upstream, u) -> {
                            stats.outboundCarried.increment();
                            relay(ch, upstream);
                        }, () -> {
                            stats.outboundUnroutable.increment();
                            record.refused(RefusalReason.UPSTREAM_FAILED);
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
        if (tunnelListener != null) {
            tunnelListener.close();
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
        tunnels.close();
        if (tunnelListener != null) {
            tunnelListener.closeConnections();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
