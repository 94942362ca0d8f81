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
 * stops reading until it can. What one read loop brings is written to the peer and flushed once, when the loop
 * completes ({@code channelReadComplete}), so a loop of several reads costs the peer one flush (one TLS record
 * batch, one HTTP/2 flush, one wake-up of the peer's event loop when it is another) instead of one per read. Before
 * it stops reading, it flushes what it wrote, so the peer drains it and becomes writable again. Closing either side
 * closes the other once pending writes are flushed. A connection with no byte in either direction for the idle
 * timeout is closed. All of it runs on this channel's event loop.
 */
final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel peer;
    private final LongAdder bytes;
    /** This connection's bytes in this direction, for its access log line. */
    private final java.util.concurrent.atomic.AtomicLong connectionBytes;
    private final LongAdder idleClosed;
    /** Written to the peer since its last flush. */
    private boolean unflushed;

    private Relay(Channel peer, LongAdder bytes, java.util.concurrent.atomic.AtomicLong connectionBytes,
            LongAdder idleClosed) {
        this.peer = peer;
        this.bytes = bytes;
        this.connectionBytes = connectionBytes;
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
        java.util.Optional<AccessRecord> record = AccessRecord.of(downstream);
        downstream.pipeline().addLast(new Relay(upstream, stats.bytesFromDownstream,
                record.map(r -> r.bytesIn).orElseGet(java.util.concurrent.atomic.AtomicLong::new), stats.idleClosed));
        upstream.pipeline().addLast(new Relay(downstream, stats.bytesFromUpstream,
                record.map(r -> r.bytesOut).orElseGet(java.util.concurrent.atomic.AtomicLong::new), stats.idleClosed));
        downstream.config().setAutoRead(true);
        upstream.config().setAutoRead(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytes.add(buf.readableBytes());
            connectionBytes.addAndGet(buf.readableBytes());
        }
        peer.write(msg);
        unflushed = true;
        if (!peer.isWritable()) {
            flushPeer(); // what is pending must drain, or the peer never becomes writable again
            ctx.channel().config().setAutoRead(false);
            if (peer.isWritable()) {
                // The peer (on another event loop) drained between the check and the stop, and its writability
                // event may have come before it: read on.
                ctx.channel().config().setAutoRead(true);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushPeer();
        ctx.fireChannelReadComplete();
    }

    private void flushPeer() {
        if (unflushed) {
            unflushed = false;
            peer.flush();
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
            unflushed = false;
            ctx.close();
            closeOnFlush(peer);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        unflushed = false; // closeOnFlush flushes them
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
