package io.meshfed.dataplane;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * The HTTP/2 settings of a tunnel connection, one place for both ends ({@link TunnelPool} sending,
 * {@link TunnelListener} receiving), from {@link TunnelSettings}: each end grants the stream window
 * (SETTINGS_INITIAL_WINDOW_SIZE), takes DATA frames of up to {@link #MAX_FRAME_SIZE} (SETTINGS_MAX_FRAME_SIZE; the
 * protocol's default of 16 KiB would cut a 1 GiB transfer into 65,536 frames, each with its write, flow-control
 * accounting and share of WINDOW_UPDATEs) and header lists of up to {@link TunnelListener#MAX_HEADER_LIST_SIZE}; the
 * sender refuses pushed streams, the receiver caps concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS). HTTP/2
 * starts every connection with a 64 KiB connection window whatever the settings say, so
 * {@link #grantConnectionWindow} raises it to the configured size once the codec is in place.
 */
final class TunnelHttp2Settings {
    /** The largest DATA frame either end takes (SETTINGS_MAX_FRAME_SIZE): 64 KiB. */
    static final int MAX_FRAME_SIZE = 64 << 10;

    private TunnelHttp2Settings() {}

    /** What the sending end (a pool's connection, HTTP/2 client) announces. */
    static Http2Settings sender(TunnelSettings settings) {
        return common(settings).pushEnabled(false);
    }

    /** What the receiving end (a tunnel listener's connection, HTTP/2 server) announces. */
    static Http2Settings receiver(TunnelSettings settings) {
        return common(settings).maxConcurrentStreams(settings.maxConcurrentStreams());
    }

    private static Http2Settings common(TunnelSettings settings) {
        return Http2Settings.defaultSettings()
                .initialWindowSize(settings.streamWindow())
                .maxFrameSize(MAX_FRAME_SIZE)
                .maxHeaderListSize(TunnelListener.MAX_HEADER_LIST_SIZE);
    }

    /**
     * Raises the connection's own receive window from HTTP/2's 64 KiB to the configured one, on a connection whose
     * codec has just been added, so that bulk transfers on several streams are not held back by it. Netty returns
     * what the relay consumed as it reads.
     */
    static void grantConnectionWindow(Channel connection, TunnelSettings settings) {
        int increment = settings.connectionWindow() - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
        if (increment > 0) {
            connection.writeAndFlush(new DefaultHttp2WindowUpdateFrame(increment));
        }
    }
}
