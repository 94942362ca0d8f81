package io.meshfed.dataplane;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * {@link Upstream.Hop#AGENT} and {@link Upstream.Hop#GATEWAY}: one mTLS connection per downstream connection, with
 * the service's SNI, accepted only when the peer's verified SPIFFE ID is one the upstream names ({@link PeerCheck}).
 */
final class TlsConnector implements UpstreamConnector {
    private final SslContext clientTls;
    private final Duration connectTimeout;
    private final ProxyStats stats;

    TlsConnector(SslContext clientTls, Duration connectTimeout, ProxyStats stats) {
        this.clientTls = clientTls;
        this.connectTimeout = connectTimeout;
        this.stats = stats;
    }

    @Override
    public void connect(Upstream upstream, UpstreamRequest request, Result result) {
        ChannelFuture f = Sockets.client(request.loop(), connectTimeout, true) // TLS must read to handshake
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(clientTls.newHandler(ch.alloc(), upstream.sni(), upstream.port()),
                                new HandshakeWatch(upstream, result));
                    }
                })
                .connect(new InetSocketAddress(upstream.host(), upstream.port()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                result.failed(UpstreamFailure.CONNECT, done.cause().toString());
            }
        });
    }

    /** Waits for the mTLS handshake, checks the peer, then hands the channel over (not reading). */
    private final class HandshakeWatch extends ChannelInboundHandlerAdapter {
        private final Upstream upstream;
        private final Result result;

        HandshakeWatch(Upstream upstream, Result result) {
            this.upstream = upstream;
            this.result = result;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent done)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            ctx.pipeline().remove(this);
            stats.handshake(ProxyStats.Side.CLIENT);
            if (!done.isSuccess()) {
                ctx.close();
                result.failed(UpstreamFailure.HANDSHAKE, String.valueOf(done.cause()));
                return;
            }
            Optional<SpiffeId> peer = TlsSessions.peer(ctx.channel());
            Optional<String> wrong = PeerCheck.wrongPeer(upstream.identities(), peer);
            if (wrong.isPresent()) {
                ctx.close();
                result.failed(UpstreamFailure.IDENTITY, wrong.get());
                return;
            }
            ctx.channel().config().setAutoRead(false);
            result.connected(new UpstreamLink(ctx.channel(), "mTLS", peer, TlsSessions.local(ctx.channel())));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // the handshake completion event follows and reports the failure
        }
    }
}
