package io.meshfed.dataplane;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a plain-HTTP connection that does not deliver a complete request in time: the first request (headers and
 * body) within the request timeout of the connect, the body of a later one within the request timeout of its
 * headers, and the next request on a kept-alive connection within the idle timeout of the last response. No timer
 * runs while a request is being answered, nor after a 101 Switching Protocols (a WebSocket, an h2c upgrade) or once
 * a cleartext HTTP/2 server found the prior-knowledge preface. Sits right after the HTTP codec (ProxyHttp, the
 * controller's HTTPS and probe ports; the edge gateway adds it to Reactor Netty's HTTP/1.1 and h2c pipelines).
 */
public final class RequestDeadline extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RequestDeadline.class);

    private final long requestMillis;
    private final long idleMillis;
    private final boolean afterHandshake;
    private ScheduledFuture<?> timer; // event loop only
    private int unanswered; // requests received and not yet answered (HTTP/1.1 pipelining)

    /** On plain HTTP: the first request is due within {@code request} of the connect. */
    public RequestDeadline(Duration request, Duration idle) {
        this(request, idle, false);
    }

    /**
     * With {@code afterHandshake}, behind a TLS handler: the first request is due within {@code request} of the end of
     * the handshake (which has a timeout of its own).
     */
    public RequestDeadline(Duration request, Duration idle, boolean afterHandshake) {
        this.requestMillis = request.toMillis();
        this.idleMillis = idle.toMillis();
        this.afterHandshake = afterHandshake;
    }

    /** Added to a connection that is already open (after a TLS handshake chose HTTP/1.1): due from now. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (!afterHandshake && ctx.channel().isActive()) {
            arm(ctx, requestMillis, "a complete request");
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (!afterHandshake) {
            arm(ctx, requestMillis, "a complete request");
        }
        super.channelActive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler.PriorKnowledgeUpgradeEvent) {
            // h2c with prior knowledge: HTTP/2 from the first byte, the HTTP/1.1 codec is gone; the HTTP/2 server's
            // own timeouts apply from here.
            cancel();
            ctx.pipeline().remove(this);
            super.userEventTriggered(ctx, evt);
            return;
        }
        if (afterHandshake && evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            arm(ctx, requestMillis, "a complete request");
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof LastHttpContent) {
            cancel();
            unanswered++;
        } else if (msg instanceof HttpRequest) {
            arm(ctx, requestMillis, "the request body");
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response
                && response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            // Upgraded (a WebSocket through the edge gateway): no longer HTTP requests, so no deadline.
            cancel();
            super.write(ctx, msg, promise);
            ctx.pipeline().remove(this);
            return;
        }
        if (msg instanceof LastHttpContent) {
            unanswered = Math.max(0, unanswered - 1);
            ChannelPromise written = promise.unvoid();
            written.addListener(f -> {
                if (f.isSuccess() && ctx.channel().isActive() && unanswered == 0) {
                    arm(ctx, idleMillis, "the next request");
                }
            });
            super.write(ctx, msg, written);
            return;
        }
        super.write(ctx, msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    private void arm(ChannelHandlerContext ctx, long millis, String waitingFor) {
        cancel();
        timer = ctx.executor().schedule(() -> {
            LOG.debug("closing HTTP connection from {}: no {} within {} ms", ctx.channel().remoteAddress(),
                    waitingFor, millis);
            ctx.close();
        }, millis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
