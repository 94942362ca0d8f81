package io.meshfed.dataplane;

import io.meshfed.api.TunnelHeaders;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tunnel receiver for tests that crashes as a killed process does: the first {@code crashes} connections are
 * dropped (no GOAWAY, no close_notify, no answer) as soon as a stream's CONNECT arrives on them. Later connections
 * answer every CONNECT with 200 and echo its data, as a receiver in front of an echo workload would.
 */
final class CrashingTunnelReceiver implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger streams = new AtomicInteger();
    private final Channel server;

    CrashingTunnelReceiver(TlsCredentials credentials, String host, int crashes) throws Exception {
        SpiffeKeyManager keys = new SpiffeKeyManager(credentials);
        SslContext tls = SpiffeTls.nettyServerBuilder(TlsProvider.preferred(), new SpiffeTrustManager(credentials,
                        PeerAuthorizer.anyVerified(), Clock.systemUTC()), keys, ClientAuth.REQUIRE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, TunnelHeaders.ALPN))
                .build();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                                    boolean crash = connections.incrementAndGet() <= crashes;
                                    ctx.pipeline().replace(this, "h2", Http2FrameCodecBuilder.forServer().build());
                                    ctx.channel().pipeline().addLast(new Http2MultiplexHandler(
                                            new ChannelInitializer<Http2StreamChannel>() {
                                                @Override
                                                protected void initChannel(Http2StreamChannel stream) {
                                                    stream.pipeline().addLast(new Stream(crash));
                                                }
                                            }));
                                }
                                ctx.fireUserEventTriggered(evt);
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress(host, 0)).sync().channel();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Connections that completed the handshake. */
    int connections() {
        return connections.get();
    }

    /** CONNECT streams answered with 200. */
    int answeredStreams() {
        return streams.get();
    }

    private final class Stream extends ChannelInboundHandlerAdapter {
        private final boolean crash;

        Stream(boolean crash) {
            this.crash = crash;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame) {
                    if (crash) {
                        Channel connection = ctx.channel().parent();
                        connection.unsafe().close(connection.voidPromise()); // the socket only, as a kill would
                        return;
                    }
                    streams.incrementAndGet();
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                } else if (msg instanceof Http2DataFrame data && !crash) {
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(data.content().retain(), data.isEndStream()));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
