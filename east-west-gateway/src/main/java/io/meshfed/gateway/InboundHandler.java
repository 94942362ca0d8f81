package io.meshfed.gateway;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.tls.SpiffeTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Optional;
import java.util.Queue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Decides an inbound connection after its TLS handshake: the SNI must name a service port with healthy local
 * endpoints, and the peer's (verified) trust domain must be allowed for it. Only then is an upstream connection
 * opened, so a refused peer's bytes never reach a workload. Bytes decrypted before the upstream is ready are held.
 */
final class InboundHandler extends ChannelInboundHandlerAdapter {
    private final Supplier<Routes> routes;
    private final Consumer<RefusalReason> refusals;
    private final int connectTimeoutMillis;
    private final Runnable routed;
    private String sniName;
    private final Queue<Object> held = new ArrayDeque<>();
    private boolean decided;

    InboundHandler(Supplier<Routes> routes, Consumer<RefusalReason> refusals, Runnable routed,
            int connectTimeoutMillis) {
        this.routes = routes;
        this.refusals = refusals;
        this.routed = routed;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent sni) {
            sniName = sni.hostname();
        } else if (evt instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                boolean untrusted = causeChainMentions(done.cause(), java.security.cert.CertificateException.class);
                refuse(ctx, untrusted ? RefusalReason.UNTRUSTED_PEER : RefusalReason.HANDSHAKE);
                return;
            }
            ctx.channel().config().setAutoRead(false);
            route(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static boolean causeChainMentions(Throwable t, Class<?> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c) || (c.getMessage() != null && c.getMessage().contains("certificate"))) {
                return true;
            }
        }
        return false;
    }

    private void route(ChannelHandlerContext ctx) {
        Optional<Sni> sni = Sni.parse(sniName);
        if (sni.isEmpty()) {
            refuse(ctx, RefusalReason.BAD_SNI);
            return;
        }
        Optional<Routes.Inbound> target = routes.get().inbound(sni.get());
        if (target.isEmpty() || target.get().endpoints().isEmpty()) {
            refuse(ctx, RefusalReason.UNKNOWN_SERVICE);
            return;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        Optional<SpiffeId> peer = SpiffeTls.peerId(ssl.engine().getSession());
        if (peer.isEmpty() || !target.get().allowedTrustDomains().contains(peer.get().trustDomain().name())) {
            refuse(ctx, RefusalReason.UNAUTHORIZED);
            return;
        }
        connect(ctx, target.get().inOrder().iterator());
    }

    /** Tries the endpoints in order; the first that accepts gets the connection. */
    private void connect(ChannelHandlerContext ctx, Iterator<InetSocketAddress> endpoints) {
        if (!endpoints.hasNext()) {
            refuse(ctx, RefusalReason.UPSTREAM_FAILED);
            return;
        }
        InetSocketAddress endpoint = endpoints.next();
        Channel downstream = ctx.channel();
        ChannelFuture f = new Bootstrap().group(downstream.eventLoop())
                .channel(io.netty.channel.socket.nio.NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                    }
                })
                .connect(new InetSocketAddress(endpoint.getHostString(), endpoint.getPort()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connect(ctx, endpoints);
                return;
            }
            Channel upstream = f.channel();
            decided = true;
            routed.run();
            Object m;
            while ((m = held.poll()) != null) {
                upstream.write(m);
            }
            upstream.flush();
            ctx.pipeline().remove(this);
            Relay.join(downstream, upstream);
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided) {
            ctx.fireChannelRead(msg);
        } else if (msg instanceof ByteBuf) {
            held.add(msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void refuse(ChannelHandlerContext ctx, RefusalReason reason) {
        if (decided) {
            return;
        }
        decided = true;
        refusals.accept(reason);
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!decided) {
            refuse(ctx, causeChainMentions(cause, java.security.cert.CertificateException.class)
                    ? RefusalReason.UNTRUSTED_PEER : RefusalReason.HANDSHAKE);
        } else {
            ctx.close();
        }
    }
}
