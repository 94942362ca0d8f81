package io.meshfed.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Copies bytes from its channel to a peer channel, with backpressure: when the peer cannot take more, this side
 * stops reading until it can. Closing either side closes the other once pending writes are flushed. A connection
 * with no byte in either direction for the idle timeout is closed.
 */
final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;
    private final LongAdder bytes;
    private final LongAdder idleClosed;

    private Relay(Channel peer, LongAdder bytes, LongAdder idleClosed) {
        this.peer = peer;
        this.bytes = bytes;
        this.idleClosed = idleClosed;
    }

    /** Joins a downstream and an upstream channel both ways and starts reading. */
    static void join(Channel downstream, Channel upstream, ProxyStats stats, Duration idleTimeout) {
        long idleMillis = idleTimeout.toMillis();
        if (idleMillis > 0) {
            // Idle means neither read nor write on a side: a long download keeps both sides busy.
            downstream.pipeline().addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
            upstream.pipeline().addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
        }
        downstream.pipeline().addLast(new Relay(upstream, stats.bytesFromDownstream, stats.idleClosed));
        upstream.pipeline().addLast(new Relay(downstream, stats.bytesFromUpstream, stats.idleClosed));
        downstream.config().setAutoRead(true);
        upstream.config().setAutoRead(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytes.add(buf.readableBytes());
        }
        peer.writeAndFlush(msg);
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            peer.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            idleClosed.increment();
            ctx.close();
            closeOnFlush(peer);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeOnFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        closeOnFlush(ctx.channel());
    }

    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
