package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.dataplane.testing.EchoBackend;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Settings;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The HTTP/2 settings of both ends of a tunnel, as configured and as each end sees the other's on the wire. */
class TunnelHttp2SettingsTest {
    private static final TunnelSettings TUNNEL = TunnelSettings.defaults().withMaxConcurrentStreams(64);

    @Test
    void theSenderAnnouncesTheStreamWindowAndSixtyFourKibFramesAndRefusesPush() {
        Http2Settings s = TunnelHttp2Settings.sender(TUNNEL);
        assertThat(s.maxFrameSize()).isEqualTo(65_536).isEqualTo(TunnelHttp2Settings.MAX_FRAME_SIZE);
        assertThat(s.initialWindowSize()).isEqualTo(TUNNEL.streamWindow());
        assertThat(s.maxHeaderListSize()).isEqualTo(TunnelListener.MAX_HEADER_LIST_SIZE);
        assertThat(s.pushEnabled()).isFalse();
    }

    @Test
    void theReceiverAnnouncesTheSameAndItsStreamLimit() {
        Http2Settings s = TunnelHttp2Settings.receiver(TUNNEL);
        assertThat(s.maxFrameSize()).isEqualTo(65_536);
        assertThat(s.initialWindowSize()).isEqualTo(4 << 20);
        assertThat(s.maxHeaderListSize()).isEqualTo(TunnelListener.MAX_HEADER_LIST_SIZE);
        assertThat(s.maxConcurrentStreams()).isEqualTo(64);
    }

    @Test
    void onARealTunnelEachEndSeesTheOthersSettings() throws Exception {
        ProxySettings receiver = ProxySettings.defaults().withTunnel(TUNNEL);
        try (TunnelPair pair = new TunnelPair(receiver, ProxySettings.defaults(), Set.of(TunnelPair.WEST))) {
            // The listener's SETTINGS, as a client reads them off the wire.
            try (TunnelTestClient client = TunnelTestClient.connect(pair.west.svid(pair.westGw.path()),
                    pair.bundles, pair.tunnel())) {
                Http2Settings announced = client.listenerSettings();
                assertThat(announced.maxFrameSize()).isEqualTo(65_536);
                assertThat(announced.maxConcurrentStreams()).isEqualTo(64);
                assertThat(announced.initialWindowSize()).isEqualTo(4 << 20);
            }
            // The sender's, as the listener took them: it writes frames of up to 64 KiB towards the sender.
            try (Socket s = pair.connect()) {
                assertThat(EchoBackend.exchange(s, "settings")).isEqualTo("settings");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> pair.receiver.inboundTunnelChannels().size() == 1);
            Channel connection = pair.receiver.inboundTunnelChannels().get(0);
            List<Integer> seen = connection.eventLoop().<List<Integer>>submit(() -> {
                Http2FrameCodec codec = connection.pipeline().get(Http2FrameCodec.class);
                return List.of(codec.encoder().configuration().frameSizePolicy().maxFrameSize(),
                        codec.connection().remote().flowController().initialWindowSize(),
                        codec.decoder().localSettings().maxFrameSize());
            }).get(10, TimeUnit.SECONDS);
            assertThat(seen).containsExactly(65_536, TUNNEL.streamWindow(), 65_536);
        }
    }
}
