package io.meshfed.dataplane;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.logging.LogLevel;

/**
 * Counts the streams the tunnel listener's HTTP/2 codec resets with REFUSED_STREAM because the connection already
 * carries SETTINGS_MAX_CONCURRENT_STREAMS streams ({@code stream_limit}). Such a stream never reaches a handler, so
 * it is counted where the codec writes the reset: Netty's frame-logger hook, which sees every frame written (it
 * logs nothing at its TRACE level unless that is enabled).
 */
final class RefusedStreams extends Http2FrameLogger {
    private final ProxyStats stats;

    RefusedStreams(ProxyStats stats) {
        super(LogLevel.TRACE, TunnelListener.class);
        this.stats = stats;
    }

    @Override
    public void logRstStream(Http2FrameLogger.Direction direction, ChannelHandlerContext ctx, int streamId,
            long errorCode) {
        if (direction == Http2FrameLogger.Direction.OUTBOUND && errorCode == Http2Error.REFUSED_STREAM.code()
                && !(ctx.handler() instanceof Http2ConnectionHandler h && h.connection().goAwaySent())) {
            stats.refused(RefusalReason.STREAM_LIMIT);
            stats.tunnelStream(ProxyStats.Direction.INBOUND, RefusalReason.STREAM_LIMIT.label());
        }
        super.logRstStream(direction, ctx, streamId, errorCode);
    }
}
