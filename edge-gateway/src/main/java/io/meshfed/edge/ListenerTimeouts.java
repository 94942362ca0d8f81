package io.meshfed.edge;

import io.meshfed.dataplane.RequestDeadline;
import io.netty.channel.ChannelPipeline;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import io.netty.handler.codec.http.HttpServerCodec;
import reactor.netty.http.server.HttpServer;

/**
 * {@code meshfed.edge.http.*}: every listener of the edge gateway (the public port and the management port, whose
 * child context takes the parent's {@link NettyServerCustomizer}s) closes connections that never finish a request.
 * On HTTP/1.1 a request (headers and body) must arrive within {@code request-timeout} of the connect (or of its
 * headers, for the body of a later one; {@link RequestDeadline}); a connection silent for {@code idle-timeout} is
 * closed (Reactor Netty's idle timeout, which also covers HTTP/2 and TLS connections); a body read stalls at most
 * {@code request-timeout}. Over TLS with ALPN the deadline is added once the handshake chose HTTP/1.1, armed from
 * then. A prior-knowledge HTTP/2 client (h2c) is under the HTTP/2 server's timeouts once its
 * preface arrives, and must send it within {@code request-timeout} as well. Spring Boot bounds the headers ({@code server.max-http-request-header-size}, 8 KB) and
 * Reactor Netty the request line (4096 bytes) and the TLS handshake (10 s).
 */
@ConfigurationProperties("meshfed.edge.http")
public record ListenerTimeouts(Duration requestTimeout, Duration idleTimeout) implements NettyServerCustomizer {
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    static final String DEADLINE = "meshfed.requestDeadline";
    static final String ALPN_WATCH = "meshfed.deadlineAfterAlpn";

    public ListenerTimeouts {
        requestTimeout = requestTimeout == null ? DEFAULT_REQUEST_TIMEOUT : requestTimeout;
        idleTimeout = idleTimeout == null ? DEFAULT_IDLE_TIMEOUT : idleTimeout;
        if (requestTimeout.isNegative() || requestTimeout.isZero() || idleTimeout.isNegative()
                || idleTimeout.isZero()) {
            throw new IllegalArgumentException("meshfed.edge.http.request-timeout and idle-timeout must be positive,"
                    + " got " + requestTimeout + " and " + idleTimeout);
        }
    }

    @Override
    public HttpServer apply(HttpServer server) {
        return server.idleTimeout(idleTimeout).readTimeout(requestTimeout).requestTimeout(requestTimeout)
                .doOnChannelInit((observer, channel, remote) -> {
                    ChannelPipeline p = channel.pipeline();
                    // Clear text (HTTP/1.1, and h2c, whose upgrade handler put an HTTP/1.1 codec in for a client
                    // that does not start with the HTTP/2 preface) and HTTP/1.1 over TLS without ALPN: the codec is
                    // there from the start. With ALPN the protocol is chosen later; the idle timeout covers that.
                    io.netty.channel.ChannelHandlerContext codec = p.context(HttpServerCodec.class);
                    if (codec != null && p.get(DEADLINE) == null) {
                        p.addAfter(codec.name(), DEADLINE, new RequestDeadline(requestTimeout, idleTimeout));
                    } else if (p.get(reactor.netty.NettyPipeline.H2OrHttp11Codec) != null && p.get(ALPN_WATCH) == null) {
                        // TLS with ALPN: the codec comes when the handshake chose the protocol.
                        p.addAfter(reactor.netty.NettyPipeline.H2OrHttp11Codec, ALPN_WATCH, new DeadlineAfterAlpn());
                    }
                });
    }

    /**
     * After Reactor Netty's ALPN handler: it sees the handshake's completion once that handler put the chosen
     * protocol's codec in. HTTP/1.1 then gets the request deadline, armed from now (the handshake had a timeout of
     * its own); HTTP/2 has its own timeouts. Either way it leaves.
     */
    private final class DeadlineAfterAlpn extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent) {
                ChannelPipeline p = ctx.pipeline();
                io.netty.channel.ChannelHandlerContext codec = p.context(HttpServerCodec.class);
                if (codec != null && p.get(DEADLINE) == null) {
                    p.addAfter(codec.name(), DEADLINE, new RequestDeadline(requestTimeout, idleTimeout));
                }
                p.remove(this);
            }
            super.userEventTriggered(ctx, evt);
        }
    }
}
