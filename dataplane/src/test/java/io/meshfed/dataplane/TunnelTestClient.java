package io.meshfed.dataplane;

import io.meshfed.api.TunnelHeaders;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven tunnel client for tests: a real mTLS connection with ALPN h2 to a tunnel listener, whose streams send
 * whatever request headers a test wants, including those a well-behaved sender never sends, and report the answer.
 */
final class TunnelTestClient implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final CompletableFuture<Http2Settings> settings = new CompletableFuture<>();
    private Channel connection;

    /** The answer to one stream: a status and its {@code meshfed-refusal}, or the reset's error code. */
    record Answer(int status, String refusal, long resetCode, Http2StreamChannel stream,
            LinkedBlockingQueue<String> data) {
        boolean reset() {
            return resetCode >= 0;
        }

        void send(String text) {
            stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
        }

        /** Reads data until {@code length} characters arrived. */
        String receive(int length) throws InterruptedException {
            StringBuilder b = new StringBuilder();
            while (b.length() < length) {
                String next = data.poll(10, TimeUnit.SECONDS);
                if (next == null) {
                    throw new AssertionError("no data after " + b.length() + " of " + length + " characters");
                }
                b.append(next);
            }
            return b.toString();
        }
    }

    static TunnelTestClient connect(X509Svid svid, BundleSet bundles, InetSocketAddress to) throws Exception {
        TunnelTestClient c = new TunnelTestClient();
        c.open(svid, bundles, to);
        return c;
    }

    static Http2Headers connectTo(String authority) {
        return new DefaultHttp2Headers().method("CONNECT").authority(authority);
    }

    private void open(X509Svid svid, BundleSet bundles, InetSocketAddress to) throws Exception {
        TlsCredentials creds = TlsCredentials.of(svid, bundles);
        SslContext tls = SpiffeTls.nettyClientBuilder(TlsProvider.preferred(), new SpiffeTrustManager(creds,
                        PeerAuthorizer.anyVerified(), Clock.systemUTC()), new SpiffeKeyManager(creds))
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, TunnelHeaders.ALPN))
                .build();
        CompletableFuture<Channel> ready = new CompletableFuture<>();
        new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof SslHandshakeCompletionEvent done) {
                            if (!done.isSuccess()) {
                                ready.completeExceptionally(done.cause());
                                return;
                            }
                            ctx.pipeline().replace(this, "h2", Http2FrameCodecBuilder.forClient().build());
                            ctx.channel().pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext c, Object msg) {
                                            if (msg instanceof Http2SettingsFrame frame) {
                                                settings.complete(frame.settings());
                                            }
                                            ReferenceCountUtil.release(msg);
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext c) {
                                            settings.completeExceptionally(new java.io.IOException(
                                                    "the listener closed the connection before its SETTINGS"));
                                            c.fireChannelInactive();
                                        }
                                    });
                            ready.complete(ctx.channel());
                        }
                        ctx.fireUserEventTriggered(evt);
                    }
                });
            }
        }).connect(to).sync();
        connection = ready.get(10, TimeUnit.SECONDS);
        settings.get(10, TimeUnit.SECONDS);
    }

    /** The listener's first SETTINGS frame (its initial settings). */
    Http2Settings listenerSettings() {
        return settings.join();
    }

    /** Ignores the receiver's SETTINGS_MAX_CONCURRENT_STREAMS from now on, as a flooding client would. */
    void ignoreStreamLimit() throws Exception {
        connection.eventLoop().submit(() -> connection.pipeline().get(Http2FrameCodec.class).connection().local()
                .maxActiveStreams(Integer.MAX_VALUE)).get(10, TimeUnit.SECONDS);
    }

    boolean isOpen() {
        return connection.isActive();
    }

    /** Opens a stream with {@code headers} (not ending it) and waits for its answer. */
    Answer open(Http2Headers headers) throws Exception {
        return openAsync(headers).get(10, TimeUnit.SECONDS);
    }

    CompletableFuture<Answer> openAsync(Http2Headers headers) throws Exception {
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        LinkedBlockingQueue<String> data = new LinkedBlockingQueue<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame h && !answer.isDone()) {
                    CharSequence refusal = h.headers().get(TunnelHeaders.REFUSAL);
                    answer.complete(new Answer(Integer.parseInt(h.headers().status().toString()),
                            refusal == null ? null : refusal.toString(), -1, (Http2StreamChannel) ctx.channel(), data));
                    if (h.isEndStream()) {
                        ctx.close(); // a refusal ends the stream: give its slot back, as a sender does
                    }
                } else if (msg instanceof Http2DataFrame d) {
                    ByteBuf content = d.content();
                    if (content.isReadable()) {
                        data.add(content.toString(StandardCharsets.UTF_8));
                    }
                }
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof Http2ResetFrame reset) {
                    answer.complete(new Answer(0, null, reset.errorCode(), (Http2StreamChannel) ctx.channel(), data));
                }
                ctx.fireUserEventTriggered(evt);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                answer.complete(new Answer(0, null, -1, (Http2StreamChannel) ctx.channel(), data));
            }
        }).open().get(10, TimeUnit.SECONDS);
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false));
        return answer;
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
