package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.TunnelHeaders;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.trust.SpiffeId;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The tunnel listener: mTLS (TLS 1.3, client certificate required) with ALPN {@code h2} required (a client that
 * does not negotiate it is refused, {@code no_h2}), then HTTP/2 with one {@code CONNECT} stream per carried
 * connection, each decided by a {@link TunnelStreamHandler}. A connection may hold at most
 * {@link TunnelSettings#maxConcurrentStreams} streams (more are reset with REFUSED_STREAM by the protocol, counted
 * {@code stream_limit}), and one peer identity at most {@link TunnelPeerConnections#MAX_PER_PEER} connections (more
 * are closed after the handshake, counted {@code connection_limit}); it grants each stream and itself the settings'
 * flow-control windows and takes 64 KiB DATA frames ({@link TunnelHttp2Settings}, shared with the sender); it closes
 * when it has carried no stream for twice the tunnel idle timeout. {@link #goAway} and {@link #close} drain: every connection
 * gets a GOAWAY, its open streams finish (up to the drain timeout), new streams go elsewhere.
 */
final class TunnelListener implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TunnelListener.class);
    /** The most header bytes a stream's request may have (SETTINGS_MAX_HEADER_LIST_SIZE). */
    static final int MAX_HEADER_LIST_SIZE = 8192;

    private final Channel server;
    private final ChannelGroup connections;

    private TunnelListener(Channel server, ChannelGroup connections) {
        this.server = server;
        this.connections = connections;
    }

    /**
     * Listens on {@code address}; {@code tls} is the server context with ALPN h2. Streams are decided with
     * {@code inbound}.
     */
    static TunnelListener bind(EventLoopGroup group, InetSocketAddress address, SslContext tls, TunnelSettings settings,
            Duration drainTimeout, TunnelInbound inbound) throws InterruptedException {
        requireNonNull(tls, "tls");
        requireNonNull(settings, "settings");
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        TunnelPeerConnections peers = new TunnelPeerConnections();
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()),
                                new Handshake(settings, drainTimeout, inbound, connections, peers));
                    }
                })
                .bind(address).sync().channel();
        return new TunnelListener(server, connections);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** The open tunnel connections (for tests). */
    List<Channel> connections() {
        return List.copyOf(connections);
    }

    /** Open tunnel connections now. */
    int connectionCount() {
        return connections.size();
    }

    /**
     * Asks every open connection to drain: a GOAWAY naming the last stream it took, so the sender opens new streams
     * on another connection while the open ones finish; each connection closes (if the sender has not closed it)
     * {@link ConnectionWatch#DRAIN_GRACE} after its last stream has.
     */
    void goAway() {
        for (Channel c : connections) {
            c.eventLoop().execute(() -> {
                Http2FrameCodec codec = c.pipeline().get(Http2FrameCodec.class);
                if (codec != null && !codec.connection().goAwaySent()) {
                    c.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                    ConnectionWatch watch = c.pipeline().get(ConnectionWatch.class);
                    if (watch != null) {
                        watch.draining = true;
                        watch.closeIfDrained(c);
                    }
                }
            });
        }
    }

    /** Stops accepting, and sends every connection a GOAWAY (see {@link #goAway}). */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        goAway();
    }

    /** Closes what is left after the drain. */
    void closeConnections() {
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** After the TLS handshake: checks ALPN and the peer, then turns the connection into HTTP/2. */
    private static final class Handshake extends ChannelInboundHandlerAdapter {
        private final TunnelSettings settings;
        private final Duration drainTimeout;
        private final TunnelInbound inbound;
        private final ChannelGroup connections;
        private final TunnelPeerConnections peers;

        Handshake(TunnelSettings settings, Duration drainTimeout, TunnelInbound inbound, ChannelGroup connections,
                TunnelPeerConnections peers) {
            this.peers = peers;
            this.settings = settings;
            this.drainTimeout = drainTimeout;
            this.inbound = inbound;
            this.connections = connections;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent done)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            ProxyStats stats = inbound.stats();
            stats.handshake(ProxyStats.Side.SERVER);
            if (!done.isSuccess()) {
                refuse(ctx, InboundHandler.certificateProblem(done.cause()) ? RefusalReason.UNTRUSTED_PEER
                        : RefusalReason.HANDSHAKE);
                return;
            }
            if (!TunnelHeaders.ALPN.equals(ctx.pipeline().get(SslHandler.class).applicationProtocol())) {
                refuse(ctx, RefusalReason.NO_H2);
                return;
            }
            Optional<SpiffeId> peer = TlsSessions.peer(ctx.channel());
            if (peer.isEmpty()) {
                refuse(ctx, RefusalReason.UNAUTHORIZED);
                return;
            }
            if (!peers.admit(peer.get(), ctx.channel())) {
                LOG.debug("tunnel connection from {} refused: it holds {} already", peer.get(),
                        TunnelPeerConnections.MAX_PER_PEER);
                refuse(ctx, RefusalReason.CONNECTION_LIMIT);
                return;
            }
            Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                    .initialSettings(TunnelHttp2Settings.receiver(settings))
                    .gracefulShutdownTimeoutMillis(drainTimeout.toMillis())
                    .frameLogger(new RefusedStreams(stats))
                    .build();
            ConnectionWatch watch = new ConnectionWatch(settings.idleTimeout().multipliedBy(2));
            SpiffeId caller = peer.get();
            java.time.Instant peerNotAfter = TlsSessions.peerNotAfter(ctx.channel());
            ctx.pipeline().replace(this, "h2", codec);
            ctx.channel().pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel stream) {
                    watch.streamOpened(stream);
                    stream.pipeline().addLast(new TunnelFrames(), new TunnelStreamHandler(inbound, caller,
                            peerNotAfter));
                }
            }), watch);
            TunnelHttp2Settings.grantConnectionWindow(ctx.channel(), settings);
            stats.tunnelConnection(Direction.INBOUND);
            connections.add(ctx.channel());
            watch.closeIfIdleLater(ctx.channel());
        }

        private void refuse(ChannelHandlerContext ctx, RefusalReason reason) {
            inbound.stats().refused(reason);
            AccessRecord record = AccessRecord.open(ctx.channel(), "tunnel"); // a connection refused before streams
            TlsSessions.peer(ctx.channel()).ifPresent(p -> record.caller(p.toString()));
            record.refused(reason);
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // the handshake completion event follows when the handshake was not done
        }
    }

    /**
     * Counts the streams of one connection (all on its event loop): closes it when it has carried none for the idle
     * timeout, or, once draining, when its last stream has ended.
     */
    static final class ConnectionWatch extends ChannelInboundHandlerAdapter {
        /** How long a drained connection stays open for streams already on their way (well over one round trip). */
        static final Duration DRAIN_GRACE = Duration.ofSeconds(1);
        private final Duration idle;
        private int streams;
        boolean draining;
        private ScheduledFuture<?> idleClose;

        ConnectionWatch(Duration idle) {
            this.idle = idle;
        }

        void streamOpened(Http2StreamChannel stream) {
            streams++;
            if (idleClose != null) {
                idleClose.cancel(false);
                idleClose = null;
            }
            Channel connection = stream.parent();
            stream.closeFuture().addListener(f -> {
                streams--;
                if (streams == 0) {
                    if (!closeIfDrained(connection)) {
                        closeIfIdleLater(connection);
                    }
                }
            });
        }

        /**
         * Once draining without streams, closes the connection after {@link #DRAIN_GRACE} (unless the sender, which
         * closes a drained connection itself, does first): a stream the sender opened before the GOAWAY reached it
         * may still be on its way, and closing with it unread would reset the connection, which can lose the GOAWAY
         * at the sender.
         */
        boolean closeIfDrained(Channel connection) {
            if (draining && streams == 0) {
                connection.eventLoop().schedule(() -> {
                    if (streams == 0) {
                        connection.close();
                    }
                }, DRAIN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            }
            return false;
        }

        void closeIfIdleLater(Channel connection) {
            idleClose = connection.eventLoop().schedule(() -> {
                if (streams == 0) {
                    connection.close();
                }
            }, idle.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (idleClose != null) {
                idleClose.cancel(false);
            }
            ctx.fireChannelInactive();
        }
    }
}
