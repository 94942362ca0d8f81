package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.ServiceAuthority;
import io.meshfed.api.ServiceSni;
import io.meshfed.api.TunnelHeaders;
import io.meshfed.dataplane.ProxyStats.Direction;
import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.meshfed.trust.SpiffeId;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of the tunnels: per destination (a tunnel listener's address and the SPIFFE IDs that may answer
 * there, the same pin as an mTLS upstream), a small pool of HTTP/2 connections over mTLS with ALPN h2, each carrying
 * one CONNECT stream per downstream connection. A stream goes on a connection of the downstream connection's own
 * event loop, so the relay between them never hands bytes over between threads ({@link TunnelPick}): a connection of
 * that loop carrying fewer than {@link TunnelPick#GROW_AT} streams; else a new connection, opened on that loop, while
 * the destination has fewer than {@link TunnelSettings#poolSize}; else the loop's least loaded connection while it
 * carries fewer than {@link TunnelSettings#streamsPerConnection}; else the least loaded connection of any loop. A
 * connection without streams closes after the tunnel idle timeout. A GOAWAY
 * makes a connection draining: its open streams finish, new streams go to another (or a new) connection, and a
 * stream the receiver never took (above the GOAWAY's last stream, or reset with REFUSED_STREAM) is opened again
 * elsewhere, so a draining receiver fails no request; the sender closes a draining connection when its last stream
 * ends. A stream whose connection went away before any answer (a crashed receiver) is opened again as well: no byte
 * of the downstream crosses before the 200. A stream the receiver answers with anything but 200 (or
 * resets) fails the upstream with the status and {@code meshfed-refusal} reason.
 */
final class TunnelPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TunnelPool.class);
    /** How often one stream is opened again after the receiver did not take it (GOAWAY, REFUSED_STREAM). */
    static final int ATTEMPTS = 3;

    /** Where tunnels go: the same address answered by a different set of identities is another destination. */
    record Destination(String host, int port, Set<SpiffeId> identities) {
        Destination {
            identities = Set.copyOf(identities);
        }
    }

    private final SslContext tls;
    private final TunnelSettings settings;
    private final Duration connectTimeout;
    private final ProxyStats stats;
    private final TunnelPick rule;
    private final ConcurrentMap<Destination, Connections> pools = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** {@code tls} is the client context with ALPN h2. */
    TunnelPool(SslContext tls, TunnelSettings settings, Duration connectTimeout, ProxyStats stats) {
        this.tls = requireNonNull(tls, "tls");
        this.settings = requireNonNull(settings, "settings");
        this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
        this.stats = requireNonNull(stats, "stats");
        this.rule = TunnelPick.of(settings);
    }

    /**
     * Opens a stream for the service port of {@code upstream}'s SNI on a pooled connection to its address, speaking
     * for {@code request}'s {@code onBehalfOf} when there is one; reports one outcome to {@code result}.
     */
    void open(Upstream upstream, UpstreamRequest request, UpstreamConnector.Result result) {
        if (closed) {
            result.failed(UpstreamFailure.CONNECT, "the proxy is closing");
            return;
        }
        ServiceAuthority authority = ServiceAuthority.of(ServiceSni.parse(upstream.sni()));
        Destination d = new Destination(upstream.host(), upstream.port(), upstream.identities());
        pools.computeIfAbsent(d, Connections::new).open(authority, request, result, ATTEMPTS);
    }

    /** Tunnel connections open or opening now, to every destination. */
    int connectionCount() {
        return pools.values().stream().mapToInt(Connections::size).sum();
    }

    @Override
    public void close() {
        closed = true;
        pools.values().forEach(Connections::closeAll);
    }

    /** The connections to one destination; the fields of its connections are guarded by it. */
    private final class Connections {
        private final Destination destination;
        private final List<TunnelConnection> all = new ArrayList<>();

        Connections(Destination destination) {
            this.destination = destination;
        }

        synchronized int size() {
            return all.size();
        }

        void open(ServiceAuthority authority, UpstreamRequest request, UpstreamConnector.Result result,
                int attempts) {
            TunnelConnection c = pick(request.loop());
            c.ready.addListener(f -> {
                if (!f.isSuccess()) {
                    release(c);
                    stats.tunnelStream(Direction.OUTBOUND, ProxyStats.OUTBOUND_UNAVAILABLE);
                    TunnelUnavailable why = (TunnelUnavailable) f.cause();
                    result.failed(why.failure, why.detail);
                    return;
                }
                Channel connection = c.ready.getNow();
                Answer answer = new Answer(c, authority, request, result, attempts);
                new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline().addLast(new TunnelFrames(), answer);
                    }
                }).open().addListener(opened -> {
                    if (!opened.isSuccess()) {
                        release(c);
                        answer.notTaken("no stream could be opened: " + opened.cause());
                        return;
                    }
                    Http2StreamChannel stream = (Http2StreamChannel) opened.getNow();
                    stream.closeFuture().addListener(x -> release(c));
                    Http2Headers headers = new DefaultHttp2Headers().method("CONNECT").authority(authority.toString());
                    request.onBehalfOf().ifPresent(id -> headers.set(TunnelHeaders.FORWARDED_IDENTITY, id.toString()));
                    stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false)).addListener(w -> {
                        if (w.isSuccess()) {
                            answer.sent = true;
                        }
                    });
                });
            });
        }

        /** The connection for one more stream from a downstream on {@code loop}, as {@link TunnelPick} says. */
        private synchronized TunnelConnection pick(EventLoop loop) {
            TunnelConnection best = rule.choose(all, loop).orElse(null);
            if (best == null) {
                best = new TunnelConnection(this, destination, loop);
                all.add(best);
                best.connect();
            }
            best.load++;
            best.cancelIdle();
            return best;
        }

        void release(TunnelConnection c) {
            boolean drained;
            synchronized (this) {
                c.load--;
                drained = c.load == 0 && c.draining;
                if (c.load == 0 && !c.draining) {
                    c.closeWhenIdle(settings.idleTimeout());
                }
            }
            if (drained) {
                c.closeDrained();
            }
        }

        /** After a GOAWAY: no new stream goes on {@code c}, and it closes (from this side) once it carries none. */
        void draining(TunnelConnection c) {
            boolean drained;
            synchronized (this) {
                drained = !c.draining && c.load == 0;
                c.draining = true;
            }
            if (drained) {
                c.closeDrained();
            }
        }

        synchronized void remove(TunnelConnection c) {
            c.draining = true;
            all.remove(c);
        }

        /** Takes an idle connection out of the pool; false when a stream took it meanwhile. */
        synchronized boolean retireIfIdle(TunnelConnection c) {
            if (c.load > 0 || c.draining) {
                return false;
            }
            remove(c);
            return true;
        }

        void closeAll() {
            List<TunnelConnection> copy;
            synchronized (this) {
                copy = List.copyOf(all);
                copy.forEach(c -> c.draining = true);
            }
            copy.forEach(TunnelConnection::close);
        }
    }

    /** Why no stream could be opened on a connection, as the Dialer counts it. */
    private static final class TunnelUnavailable extends Exception {
        final UpstreamFailure failure;
        final String detail;

        TunnelUnavailable(UpstreamFailure failure, String detail) {
            super(detail, null, false, false);
            this.failure = failure;
            this.detail = detail;
        }
    }

    /** One HTTP/2 connection of a pool. {@code load} and {@code draining} are guarded by its {@code owner}. */
    private final class TunnelConnection implements TunnelPick.Candidate {
        private final Connections owner;
        private final Destination destination;
        private final EventLoop loop;
        final Promise<Channel> ready;
        int load;
        boolean draining;
        private Channel channel;
        private ScheduledFuture<?> idle;
        volatile Optional<SpiffeId> peer = Optional.empty();
        volatile Optional<SpiffeId> local = Optional.empty();

        TunnelConnection(Connections owner, Destination destination, EventLoop loop) {
            this.owner = owner;
            this.destination = destination;
            this.loop = loop;
            this.ready = loop.newPromise();
        }

        @Override
        public EventLoop loop() {
            return loop;
        }

        @Override
        public int load() {
            return load;
        }

        @Override
        public boolean draining() {
            return draining;
        }

        void connect() {
            channel = Sockets.client(loop, connectTimeout, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), destination.host(), destination.port()),
                                    new Handshake());
                        }
                    })
                    .connect(new InetSocketAddress(destination.host(), destination.port()))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            fail(UpstreamFailure.CONNECT, f.cause().toString());
                        }
                    }).channel();
            channel.closeFuture().addListener(f -> {
                owner.remove(this);
                fail(UpstreamFailure.CONNECT, "the tunnel connection closed");
            });
        }

        private void fail(UpstreamFailure failure, String detail) {
            if (ready.tryFailure(new TunnelUnavailable(failure, detail))) {
                owner.remove(this);
                channel.close();
            }
        }

        /** Called with the owner's lock held. */
        void cancelIdle() {
            if (idle != null) {
                idle.cancel(false);
                idle = null;
            }
        }

        /** Called with the owner's lock held. */
        void closeWhenIdle(Duration after) {
            cancelIdle();
            idle = loop.schedule(() -> {
                if (owner.retireIfIdle(this)) {
                    LOG.debug("tunnel to {}:{} idle for {} s: closing", destination.host(), destination.port(),
                            after.toSeconds());
                    close();
                }
            }, after.toMillis(), TimeUnit.MILLISECONDS);
        }

        void close() {
            if (channel != null) {
                channel.close();
            }
        }

        /**
         * Closes a connection that received a GOAWAY once its last stream has ended: the sender knows it opens no
         * more streams on it, so closing it here (rather than waiting for the receiver) never races a new stream.
         */
        void closeDrained() {
            Http2Connection connection = http2();
            if (connection != null && connection.goAwayReceived()) {
                LOG.debug("tunnel to {}:{} drained: closing", destination.host(), destination.port());
                owner.remove(this);
                close();
            }
        }

        /** Whether the receiver never took stream {@code id} (above a GOAWAY's last stream): safe to open again. */
        boolean notTakenByGoAway(int id) {
            Http2Connection connection = http2();
            if (connection != null && connection.goAwayReceived()) {
                owner.draining(this);
                return id < 0 || id > connection.local().lastStreamKnownByPeer();
            }
            return false;
        }

        /** The connection's HTTP/2 state; null before the handshake made it HTTP/2. */
        private Http2Connection http2() {
            Http2FrameCodec codec = channel == null ? null : channel.pipeline().get(Http2FrameCodec.class);
            return codec == null ? null : codec.connection();
        }

        /** After the TLS handshake: checks ALPN and the peer, then turns the connection into HTTP/2. */
        private final class Handshake extends ChannelInboundHandlerAdapter {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (!(evt instanceof SslHandshakeCompletionEvent done)) {
                    ctx.fireUserEventTriggered(evt);
                    return;
                }
                stats.handshake(ProxyStats.Side.CLIENT);
                if (!done.isSuccess()) {
                    fail(UpstreamFailure.HANDSHAKE, String.valueOf(done.cause()));
                    return;
                }
                if (!TunnelHeaders.ALPN.equals(ctx.pipeline().get(SslHandler.class).applicationProtocol())) {
                    fail(UpstreamFailure.HANDSHAKE, "the peer did not negotiate ALPN " + TunnelHeaders.ALPN
                            + " (is it a tunnel listener?)");
                    return;
                }
                Optional<SpiffeId> verified = TlsSessions.peer(ctx.channel());
                Optional<String> wrong = PeerCheck.wrongPeer(destination.identities(), verified);
                if (wrong.isPresent()) {
                    fail(UpstreamFailure.IDENTITY, wrong.get());
                    return;
                }
                peer = verified;
                local = TlsSessions.local(ctx.channel());
                Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                        .initialSettings(TunnelHttp2Settings.sender(settings))
                        .build();
                ctx.pipeline().replace(this, "h2", codec);
                ctx.channel().pipeline().addLast(new Http2MultiplexHandler(new NoPushedStreams()),
                        new GoAwayWatch());
                TunnelHttp2Settings.grantConnectionWindow(ctx.channel(), settings);
                stats.tunnelConnection(Direction.OUTBOUND);
                ready.trySuccess(ctx.channel());
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // the handshake completion event (or the close) reports it
            }
        }

        /** A GOAWAY makes the connection draining: no new stream goes on it; it closes when the receiver closes it. */
        private final class GoAwayWatch extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2GoAwayFrame goAway) {
                    owner.draining(TunnelConnection.this);
                    LOG.debug("tunnel to {}:{} draining (GOAWAY {}, last stream {})", destination.host(),
                            destination.port(), Http2Error.valueOf(goAway.errorCode()), goAway.lastStreamId());
                }
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                LOG.debug("tunnel to {}:{}: {}", destination.host(), destination.port(), cause.toString());
                ctx.close();
            }
        }
    }

    /** The receiver may not open streams towards the sender. */
    private static final class NoPushedStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }

    /** Waits for the answer to one CONNECT and reports it exactly once (or opens the stream again elsewhere). */
    private final class Answer extends ChannelInboundHandlerAdapter {
        private final TunnelConnection connection;
        private final ServiceAuthority authority;
        private final UpstreamRequest request;
        private final UpstreamConnector.Result result;
        private final int attempts;
        volatile boolean sent;
        private boolean done;

        Answer(TunnelConnection connection, ServiceAuthority authority, UpstreamRequest request,
                UpstreamConnector.Result result, int attempts) {
            this.connection = connection;
            this.authority = authority;
            this.request = request;
            this.result = result;
            this.attempts = attempts;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (done || !(msg instanceof Http2HeadersFrame answer)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            done = true;
            CharSequence status = answer.headers().status();
            if (status != null && "200".contentEquals(status)) {
                Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
                stream.config().setAutoRead(false);
                TunnelFrames.open(ctx);
                ctx.pipeline().remove(this);
                stats.tunnelStream(Direction.OUTBOUND, ProxyStats.OK);
                stats.streamOpened();
                stream.closeFuture().addListener(f -> stats.streamClosed());
                result.connected(new UpstreamLink(stream, "tunnel", connection.peer,
                        request.onBehalfOf().isPresent() ? request.onBehalfOf() : connection.local));
                return;
            }
            CharSequence refusal = answer.headers().get(TunnelHeaders.REFUSAL);
            stats.tunnelStream(Direction.OUTBOUND, ProxyStats.OUTBOUND_REFUSED);
            ctx.channel().close();
            result.failed(status != null && "403".contentEquals(status) ? UpstreamFailure.FORBIDDEN
                    : UpstreamFailure.REFUSED, "the tunnel answered " + authority + " with " + status + " ("
                    + (refusal == null ? "no reason given" : refusal) + ")");
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame reset && !done) {
                done = true;
                if (reset.errorCode() == Http2Error.REFUSED_STREAM.code()) {
                    again("the receiver refused the stream (REFUSED_STREAM)");
                } else {
                    stats.tunnelStream(Direction.OUTBOUND, ProxyStats.OUTBOUND_RESET);
                    result.failed(UpstreamFailure.REFUSED, "the tunnel reset the stream for " + authority + " ("
                            + Http2Error.valueOf(reset.errorCode()) + ")");
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!done) {
                done = true;
                Http2StreamChannel stream = (Http2StreamChannel) ctx.channel();
                if (!sent || connection.notTakenByGoAway(stream.stream().id())) {
                    again("the stream was not taken (the tunnel is draining or closed)");
                } else if (!stream.parent().isActive()) {
                    // The connection went away before any answer (a receiver that crashed, or a GOAWAY lost to a
                    // reset). No byte of the downstream has crossed before a 200, so opening it again is safe.
                    again("the tunnel connection closed before the stream was answered");
                } else {
                    stats.tunnelStream(Direction.OUTBOUND, ProxyStats.OUTBOUND_RESET);
                    result.failed(UpstreamFailure.REFUSED, "the tunnel closed the stream for " + authority
                            + " before answering");
                }
            }
            ctx.fireChannelInactive();
        }

        /** Before any answer, outside the handler (the stream could not be opened at all). */
        void notTaken(String why) {
            done = true;
            again(why);
        }

        /** The receiver never took the stream: open it again (on another connection when this one drains). */
        private void again(String why) {
            if (attempts > 1 && !closed) {
                LOG.debug("tunnel stream for {} to {}:{} opened again: {}", authority, connection.destination.host(),
                        connection.destination.port(), why);
                pools.computeIfAbsent(connection.destination, Connections::new).open(authority, request, result,
                        attempts - 1);
            } else {
                stats.tunnelStream(Direction.OUTBOUND, ProxyStats.OUTBOUND_UNAVAILABLE);
                result.failed(UpstreamFailure.REFUSED, why);
            }
        }
    }
}
