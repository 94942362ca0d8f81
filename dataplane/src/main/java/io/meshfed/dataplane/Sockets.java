package io.meshfed.dataplane;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;

/** The client sockets every connector opens: on the downstream's event loop, no Nagle, a bounded connect. */
final class Sockets {
    private Sockets() {}

    static Bootstrap client(EventLoop loop, Duration connectTimeout, boolean autoRead) {
        return new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(connectTimeout.toMillis()))
                .option(ChannelOption.AUTO_READ, autoRead)
                .option(ChannelOption.TCP_NODELAY, true);
    }
}
