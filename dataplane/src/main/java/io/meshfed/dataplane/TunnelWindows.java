package io.meshfed.dataplane;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;

/**
 * HTTP/2 starts every connection with a 64 KiB connection window whatever the settings say; this raises it to the
 * configured size once, on a connection whose codec has just been added, so that bulk transfers on several streams
 * are not held back by the connection's window. Netty returns what the relay consumed as it reads.
 */
final class TunnelWindows {
    private TunnelWindows() {}

    static void grantConnectionWindow(Channel connection, int window) {
        int increment = window - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        if (increment > 0) {
            connection.writeAndFlush(new DefaultHttp2WindowUpdateFrame(increment));
        }
    }
}
