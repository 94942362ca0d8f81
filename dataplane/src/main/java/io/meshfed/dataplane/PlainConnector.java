package io.meshfed.dataplane;

import io.meshfed.dataplane.ProxyStats.UpstreamFailure;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.time.Duration;

/** {@link Upstream.Hop#PLAIN}: a TCP connection to a workload in the proxy's own network. */
final class PlainConnector implements UpstreamConnector {
    private final Duration connectTimeout;

    PlainConnector(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    @Override
    public void connect(Upstream upstream, UpstreamRequest request, Result result) {
        ChannelFuture f = Sockets.client(request.loop(), connectTimeout, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                    }
                })
                .connect(new InetSocketAddress(upstream.host(), upstream.port()));
        f.addListener(done -> {
            if (done.isSuccess()) {
                result.connected(UpstreamLink.plain(f.channel()));
            } else {
                result.failed(UpstreamFailure.CONNECT, done.cause().toString());
            }
        });
    }
}
