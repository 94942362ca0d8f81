package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Relay} between two embedded channels: one flush per read loop, order, backpressure, close. */
class RelayTest {
    private final ProxyStats stats = new ProxyStats();
    private final FlushCounter downstreamFlushes = new FlushCounter();
    private final FlushCounter upstreamFlushes = new FlushCounter();
    private final EmbeddedChannel downstream = new EmbeddedChannel(downstreamFlushes);
    private final EmbeddedChannel upstream = new EmbeddedChannel(upstreamFlushes);

    RelayTest() {
        Relay.join(downstream, upstream, stats, Duration.ZERO);
    }

    @AfterEach
    void close() {
        downstream.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
    }

    @Test
    void severalReadsInOneLoopReachThePeerWithOneFlush() {
        downstream.writeInbound(text("one "), text("two "), text("three")); // one read loop: three reads, then complete
        assertThat(upstreamFlushes.count).isEqualTo(1);
        assertThat(drain(upstream)).isEqualTo("one two three");
        assertThat(stats.bytesFromDownstream()).isEqualTo("one two three".length());

        upstream.writeInbound(text("a"), text("b"));
        assertThat(downstreamFlushes.count).isEqualTo(1);
        assertThat(drain(downstream)).isEqualTo("ab");
        assertThat(stats.bytesFromUpstream()).isEqualTo(2);
    }

    @Test
    void nothingIsFlushedBeforeTheReadLoopCompletes() {
        downstream.pipeline().fireChannelRead(text("held"));
        assertThat(upstreamFlushes.count).isZero();
        assertThat((Object) upstream.readOutbound()).isNull();
        downstream.pipeline().fireChannelReadComplete();
        assertThat(upstreamFlushes.count).isEqualTo(1);
        assertThat(drain(upstream)).isEqualTo("held");
        downstream.pipeline().fireChannelReadComplete(); // nothing new written: no flush
        assertThat(upstreamFlushes.count).isEqualTo(1);
    }

    @Test
    void manyLoopsOfRandomBytesArriveIntactAndInOrder() {
        Random random = new Random(7);
        ByteBuf sent = Unpooled.buffer();
        ByteBuf received = Unpooled.buffer();
        for (int loop = 0; loop < 200; loop++) {
            List<Object> reads = new ArrayList<>();
            for (int i = random.nextInt(8) + 1; i > 0; i--) {
                byte[] chunk = new byte[random.nextInt(4096) + 1];
                random.nextBytes(chunk);
                sent.writeBytes(chunk);
                reads.add(Unpooled.wrappedBuffer(chunk));
            }
            downstream.writeInbound(reads.toArray());
            for (ByteBuf b; (b = upstream.readOutbound()) != null; ) {
                received.writeBytes(b);
                b.release();
            }
        }
        assertThat(upstreamFlushes.count).isEqualTo(200);
        assertThat(ByteBufUtil.equals(received, sent)).isTrue();
        sent.release();
        received.release();
    }

    @Test
    void anUnwritablePeerStopsReadingAfterWhatWasWrittenIsFlushedAndItsWritabilityResumesIt() {
        upstream.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        assertThat(upstream.isWritable()).isFalse();
        downstream.pipeline().fireChannelRead(text("first"));
        // Not at the end of the loop, yet flushed: the peer can only drain what was flushed.
        assertThat(upstreamFlushes.count).isEqualTo(1);
        assertThat(drain(upstream)).isEqualTo("first");
        assertThat(downstream.config().isAutoRead()).isFalse();
        downstream.pipeline().fireChannelReadComplete();
        assertThat(upstreamFlushes.count).as("nothing more to flush").isEqualTo(1);

        upstream.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        upstream.runPendingTasks();
        assertThat(downstream.config().isAutoRead()).isTrue();
        downstream.writeInbound(text("second"));
        assertThat(drain(upstream)).isEqualTo("second");
    }

    @Test
    void aPeerThatDrainsAsSoonAsItIsFlushedKeepsTheReadingOn() {
        upstream.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 2));
        downstream.pipeline().fireChannelRead(text("0123456789")); // above the high water mark until flushed
        assertThat(upstreamFlushes.count).isEqualTo(1);
        assertThat(upstream.isWritable()).isTrue();
        assertThat(downstream.config().isAutoRead()).isTrue();
        assertThat(drain(upstream)).isEqualTo("0123456789");
    }

    @Test
    void closingOneSideFlushesWhatItWroteAndClosesThePeer() {
        downstream.pipeline().fireChannelRead(text("last words"));
        assertThat((Object) upstream.readOutbound()).isNull();
        downstream.close(); // inactive before its read loop completed
        upstream.runPendingTasks();
        assertThat(drain(upstream)).isEqualTo("last words");
        assertThat(upstream.isActive()).isFalse();
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    /** What the channel wrote out (flushed), as text. */
    private static String drain(EmbeddedChannel ch) {
        StringBuilder b = new StringBuilder();
        for (ByteBuf buf; (buf = ch.readOutbound()) != null; ) {
            b.append(buf.toString(StandardCharsets.UTF_8));
            buf.release();
        }
        return b.toString();
    }

    private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }
}
