package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The frame/byte codec of a tunnel stream, on an EmbeddedChannel standing in for the stream channel. */
class TunnelFramesTest {
    private final EmbeddedChannel stream = new EmbeddedChannel(new TunnelFrames(), new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.fireChannelRead(msg); // the deciding handler stands aside
        }
    });

    private static DefaultHttp2DataFrame data(String text, boolean end) {
        return new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), end);
    }

    private String readBytes() {
        StringBuilder b = new StringBuilder();
        Object m;
        while ((m = stream.readInbound()) != null) {
            if (m instanceof ByteBuf buf) {
                b.append(buf.toString(StandardCharsets.UTF_8));
                buf.release();
            } else {
                b.append('[').append(m.getClass().getSimpleName()).append(']');
            }
        }
        return b.toString();
    }

    private void open() {
        stream.pipeline().fireUserEventTriggered("noop");
        TunnelFrames.open(stream.pipeline().firstContext());
    }

    @Test
    void dataBeforeTheStreamIsDecidedIsHeldAndDeliveredInOrderOnlyOnceOpenedAndRead() {
        stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("CONNECT"), false));
        assertThat(stream.<Object>readInbound()).isInstanceOf(Http2HeadersFrame.class);
        stream.writeInbound(data("early ", false), data("bytes", false));
        assertThat(readBytes()).isEmpty();

        open();
        stream.read();
        assertThat(readBytes()).isEqualTo("early bytes");
        stream.writeInbound(data(" later", false));
        assertThat(readBytes()).isEqualTo(" later");
        assertThat(stream.isOpen()).isTrue();
    }

    @Test
    void bytesBecomeDataFramesAndClosingEndsTheStreamInsteadOfResettingIt() {
        stream.writeOutbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
        assertThat(stream.<Object>readOutbound()).isInstanceOf(Http2HeadersFrame.class);
        open();
        stream.writeOutbound(Unpooled.copiedBuffer("payload", StandardCharsets.UTF_8), Unpooled.EMPTY_BUFFER);
        Http2DataFrame payload = stream.readOutbound();
        assertThat(payload.content().toString(StandardCharsets.UTF_8)).isEqualTo("payload");
        assertThat(payload.isEndStream()).isFalse();
        payload.release();
        assertThat(stream.<Object>readOutbound()).as("no empty DATA frame for a flush marker").isNull();

        stream.close();
        Http2DataFrame end = stream.readOutbound();
        assertThat(end.isEndStream()).isTrue();
        assertThat(end.content().isReadable()).isFalse();
        // It waits for the peer to end its side (then the stream closes without a reset), dropping late data.
        assertThat(stream.isOpen()).isTrue();
        stream.writeInbound(data("late", false));
        assertThat(readBytes()).isEmpty();
        stream.writeInbound(new DefaultHttp2DataFrame(true));
        assertThat(stream.isOpen()).isFalse();
    }

    @Test
    void theEndOfThePeersSideClosesTheStreamAfterItsDataWasDeliveredAndEndsOurs() {
        stream.writeOutbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
        stream.<Object>readOutbound();
        stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
        stream.<Object>readInbound();
        open();
        stream.writeInbound(data("last words", true));
        assertThat(readBytes()).isEqualTo("last words");
        Http2DataFrame end = stream.readOutbound();
        assertThat(end.isEndStream()).isTrue();
        assertThat(stream.isOpen()).isFalse();
    }

    @Test
    void noByteIsWrittenBeforeTheStreamsHeaders() {
        ByteBuf early = Unpooled.copiedBuffer("too early", StandardCharsets.UTF_8);
        assertThat(stream.writeOneOutbound(early).isSuccess()).isFalse();
        assertThat(early.refCnt()).isZero();
        assertThat(stream.<Object>readOutbound()).isNull();
    }
}
