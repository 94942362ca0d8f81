package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.tls.SpiffeTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the upstream side of a connection: tries a target's upstreams in {@link UpstreamHealth#order} order, plain
 * TCP or mTLS with the service's SNI as the hop requires, and accepts an mTLS peer only when its verified SPIFFE ID
 * is one the upstream names (the agent's, or the destination network's gateways'; none named: no peer is accepted).
 * Each failure ejects that upstream and moves on to the next. The upstream handed
 * to {@code connected} is not reading yet.
 */
final class Dialer {
    private static final Logger LOG = LoggerFactory.getLogger(Dialer.class);
    /** One line per carried connection: who, what for, where to, and the upstream's verified identity. */
    private static final Logger ACCESS = LoggerFactory.getLogger("meshfed.access");

    private final SslContext clientTls;
    private final UpstreamHealth health;
    private final Balancing balancing;
    private final ProxyStats stats;
    private final int connectTimeoutMillis;

    Dialer(SslContext clientTls, UpstreamHealth health, Balancing balancing, ProxyStats stats,
            Duration connectTimeout) {
        this.clientTls = requireNonNull(clientTls, "clientTls");
        this.health = requireNonNull(health, "health");
        this.balancing = requireNonNull(balancing, "balancing");
        this.stats = requireNonNull(stats, "stats");
        this.connectTimeoutMillis = Math.toIntExact(connectTimeout.toMillis());
    }

    /** Calls {@code connected} on the downstream's event loop with the first upstream that took it, else {@code exhausted}. */
    void dial(Channel downstream, Target target, BiConsumer<Channel, Upstream> connected, Runnable exhausted) {
        dial(downstream, null, target, connected, exhausted);
    }

    /** As {@link #dial(Channel, Target, BiConsumer, Runnable)}, for a downstream that proved {@code peer}. */
    void dial(Channel downstream, SpiffeId peer, Target target, BiConsumer<Channel, Upstream> connected,
            Runnable exhausted) {
        String from = peer != null ? peer.toString() : String.valueOf(downstream.remoteAddress());
        BiConsumer<Channel, Upstream> logged = !ACCESS.isInfoEnabled() ? connected : (upstream, u) -> {
            Optional<SpiffeId> upstreamPeer = upstream.pipeline().get(SslHandler.class) == null ? Optional.empty()
                    : SpiffeTls.peerId(upstream.pipeline().get(SslHandler.class).engine().getSession());
            ACCESS.info("{} from {} to {}{}", target.name(), from, u,
                    upstreamPeer.map(p -> " (mTLS, peer " + p + ")").orElse(" (plain)"));
            connected.accept(upstream, u);
        };
        next(downstream, target, health.order(target, balancing).iterator(), logged, exhausted);
    }

    private void next(Channel downstream, Target target, Iterator<Upstream> upstreams,
            BiConsumer<Channel, Upstream> connected, Runnable exhausted) {
        if (!downstream.isActive()) {
            return;
        }
        if (!upstreams.hasNext()) {
            exhausted.run();
            return;
        }
        Upstream u = upstreams.next();
        Runnable tryNext = () -> next(downstream, target, upstreams, connected, exhausted);
        ChannelFuture f = new Bootstrap().group(downstream.eventLoop()).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.AUTO_READ, u.hop() != Upstream.Hop.PLAIN) // TLS must read to handshake
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (u.hop() != Upstream.Hop.PLAIN) {
                            ch.pipeline().addLast(clientTls.newHandler(ch.alloc(), u.sni(), u.port()),
                                    new HandshakeWatch(u, target, tryNext, connected));
                        }
                    }
                })
                .connect(new InetSocketAddress(u.host(), u.port()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                failed(u, target, UpstreamFailure.CONNECT, done.cause().toString());
                tryNext.run();
            } else if (u.hop() == Upstream.Hop.PLAIN) {
                established(f.channel(), u, connected);
            }
        });
    }

    private void established(Channel upstream, Upstream u, BiConsumer<Channel, Upstream> connected) {
        health.succeeded(u);
        health.opened(u);
        upstream.closeFuture().addListener(c -> health.closed(u));
        connected.accept(upstream, u);
    }

    private void failed(Upstream u, Target target, UpstreamFailure failure, String detail) {
        stats.upstreamFailed(failure);
        Duration ejected = health.failed(u);
        LOG.warn("{} via {}: {} failed ({}); ejected for {} s", target.name(), u, failure.label(), detail,
                ejected.toSeconds());
    }

    /** Waits for the mTLS handshake, checks the peer, then hands the channel over (not reading). */
    private final class HandshakeWatch extends ChannelInboundHandlerAdapter {
        private final Upstream upstream;
        private final Target target;
        private final Runnable tryNext;
        private final BiConsumer<Channel, Upstream> connected;

        HandshakeWatch(Upstream upstream, Target target, Runnable tryNext, BiConsumer<Channel, Upstream> connected) {
            this.upstream = upstream;
            this.target = target;
            this.tryNext = tryNext;
            this.connected = connected;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent done)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            ctx.pipeline().remove(this);
            if (!done.isSuccess()) {
                failed(upstream, target, UpstreamFailure.HANDSHAKE, String.valueOf(done.cause()));
                ctx.close();
                tryNext.run();
                return;
            }
            Optional<SpiffeId> peer = SpiffeTls.peerId(ctx.pipeline().get(SslHandler.class).engine().getSession());
            Optional<String> wrong = wrongPeer(peer);
            if (wrong.isPresent()) {
                failed(upstream, target, UpstreamFailure.IDENTITY, wrong.get());
                ctx.close();
                tryNext.run();
                return;
            }
            ctx.channel().config().setAutoRead(false);
            established(ctx.channel(), upstream, connected);
        }

        /** Why the verified peer may not answer this upstream: only the snapshot's identities may (none: nobody). */
        private Optional<String> wrongPeer(Optional<SpiffeId> peer) {
            if (peer.isEmpty()) {
                return Optional.of("the peer presented no SPIFFE ID");
            }
            if (!upstream.identities().contains(peer.get())) {
                return Optional.of("the peer presented " + peer.get() + ", expected " + (upstream.identities()
                        .isEmpty() ? "none (the snapshot names no identity for this upstream)"
                        : "one of " + new java.util.TreeSet<>(upstream.identities().stream().map(SpiffeId::toString)
                                .toList())));
            }
            return Optional.empty();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // the handshake completion event follows and moves on
        }
    }
}
