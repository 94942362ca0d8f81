package io.meshfed.controller.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that does not deliver a complete request in time. The first request (headers and body) must
 * arrive within the request timeout, counted from the end of the TLS handshake (or from the connect on plain HTTP);
 * the body of a later one within the request timeout of its headers; and a kept-alive connection may wait at most
 * the idle timeout after a response for the next request. No timer runs while a request is being answered. Sits
 * right after the HTTP codec, so it sees the decoded request parts and the responses.
 */
final class RequestDeadline extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RequestDeadline.class);

    private final long requestMillis;
    private final long idleMillis;
    private final boolean afterHandshake;
    private ScheduledFuture<?> timer; // event loop only
    private int unanswered; // requests received and not yet answered (HTTP/1.1 pipelining)

    RequestDeadline(Duration request, Duration idle, boolean afterHandshake) {
        this.requestMillis = request.toMillis();
        this.idleMillis = idle.toMillis();
        this.afterHandshake = afterHandshake;
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
