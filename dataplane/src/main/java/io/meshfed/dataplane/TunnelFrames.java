package io.meshfed.dataplane;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Turns one tunnel stream (an HTTP/2 stream channel) into a byte stream, so {@link Relay} copies it like a socket.
 *
 * <p>Inbound: the first HEADERS frame (the request, or the answer) passes to the next handler; DATA frames become
 * their {@link ByteBuf}s, held until the stream is {@link #open opened} and the next handler asks to read, so no
 * byte of a stream goes anywhere before it was decided; END_STREAM from the peer closes the channel once its data
 * was delivered. The stream channel reads (and so returns flow-control window to the peer) only when the next
 * handler reads: a relay that stops reading stops the peer.
 *
 * <p>Outbound: ByteBufs become DATA frames. Closing the channel ends the stream instead of resetting it: an empty
 * DATA frame with END_STREAM, queued behind the data flow control still holds, so every byte written is delivered;
 * then, once the peer has ended its side too (it does as soon as it reads ours), the stream is closed without a
 * RST_STREAM. Only a peer that does not end within {@link #LINGER} gets a reset. So a tunnel that carries thousands of
 * short connections sends no resets, which a receiver would take for a rapid-reset attack.
 */
final class TunnelFrames extends ChannelDuplexHandler {
    /** How long a closed stream waits for the peer's END_STREAM before it resets the stream. */
    static final Duration LINGER = Duration.ofSeconds(5);

    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private boolean headersSeen;
    private boolean headersWritten;
    private boolean open;
    private boolean remoteEnded;
    private boolean localEnded;
    private ChannelPromise closing;
    private ScheduledFuture<?> linger;

    /** Lets data through from now on: what is held is delivered on the next read. Call on the stream's loop. */
    static void open(ChannelHandlerContext anyContextOfTheStream) {
        TunnelFrames frames = anyContextOfTheStream.pipeline().get(TunnelFrames.class);
        if (frames != null) {
            frames.open = true;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame data) {
            ByteBuf content = data.content(); // the frame's only reference
            if (!content.isReadable() || remoteEnded || closing != null) {
                content.release();
            } else if (open && held.isEmpty()) {
                ctx.fireChannelRead(content);
            } else {
                held.add(content);
            }
            if (data.isEndStream()) {
                remoteEnded(ctx);
            }
        } else if (msg instanceof Http2HeadersFrame headers && !headersSeen) {
            headersSeen = true;
            boolean end = headers.isEndStream();
            ctx.fireChannelRead(headers);
            if (end) {
                remoteEnded(ctx);
            }
        } else {
            // Trailers end the stream like END_STREAM; any other frame carries nothing for the relay.
            boolean end = msg instanceof Http2HeadersFrame trailers && trailers.isEndStream();
            ReferenceCountUtil.release(msg);
            if (end) {
                remoteEnded(ctx);
            }
        }
    }

    private void remoteEnded(ChannelHandlerContext ctx) {
        if (remoteEnded) {
            return;
        }
        remoteEnded = true;
        if (closing != null) {
            finishClose(ctx);
        } else if (open && held.isEmpty()) {
            ctx.channel().close(); // through close() below: our side ends the stream too
        }
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (open && !held.isEmpty()) {
            ByteBuf b;
            while ((b = held.poll()) != null) {
                ctx.fireChannelRead(b);
            }
            ctx.fireChannelReadComplete();
            if (remoteEnded) {
                ctx.channel().close();
                return;
            }
        }
        ctx.read();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            if (localEnded || !headersWritten) {
                buf.release();
                promise.setFailure(new ClosedChannelException());
                return;
            }
            if (!buf.isReadable()) { // a flush marker (Relay's close after flush): no empty DATA frame on the wire
                buf.release();
                promise.setSuccess();
                return;
            }
            ctx.write(new DefaultHttp2DataFrame(buf, false), promise);
            return;
        }
        if (msg instanceof Http2HeadersFrame headers) {
            headersWritten = true;
            localEnded |= headers.isEndStream();
        } else if (msg instanceof Http2DataFrame data) {
            localEnded |= data.isEndStream();
        }
        ctx.write(msg, promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (!headersWritten || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        if (closing != null) {
            closing.addListener(f -> promise.trySuccess());
            return;
        }
        if (!localEnded) {
            localEnded = true;
            ctx.writeAndFlush(new DefaultHttp2DataFrame(true));
        }
        if (remoteEnded) {
            ctx.close(promise); // both sides ended: the stream is closed, no reset
            return;
        }
        // Wait for the peer's END_STREAM, reading (and dropping) what it still sends so that it arrives.
        closing = promise;
        releaseHeld();
        linger = ctx.executor().schedule(() -> finishClose(ctx), LINGER.toMillis(), TimeUnit.MILLISECONDS);
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    private void finishClose(ChannelHandlerContext ctx) {
        if (linger != null) {
            linger.cancel(false);
        }
        ChannelPromise p = closing;
        closing = null;
        ctx.close(p);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseHeld();
        if (linger != null) {
            linger.cancel(false);
        }
        if (closing != null) {
            closing.trySuccess();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseHeld();
    }

    private void releaseHeld() {
        held.forEach(ReferenceCountUtil::release);
        held.clear();
    }
}
