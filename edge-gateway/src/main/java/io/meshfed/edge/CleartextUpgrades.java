package io.meshfed.edge;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import reactor.netty.http.server.HttpServer;

/**
 * Serves an h2c upgrade request that carries a body as the HTTP/1.1 request it also is. An upgrade request is
 * answered only after its whole body was buffered, and Reactor Netty refuses one with any body (413), so a client
 * that asks for h2c on every request, as the JDK's {@code HttpClient} does by default, could not POST. RFC 9113 lets
 * a server ignore an upgrade: this handler, between the HTTP/1.1 codec and the upgrade handler, takes the
 * {@code Upgrade: h2c} and {@code HTTP2-Settings} headers off such a request. Requests without a body still upgrade.
 */
final class CleartextUpgrades implements NettyServerCustomizer {
    static final String NAME = "meshfed.upgradeWithoutBody";

    @Override
    public HttpServer apply(HttpServer server) {
        return server.doOnChannelInit((observer, channel, remote) -> {
            ChannelPipeline p = channel.pipeline();
            ChannelHandlerContext codec = p.context(HttpServerCodec.class);
            // Only where an upgrade handler follows the codec (h2c); plain HTTP/1.1 has nothing to upgrade to.
            if (codec != null && p.get(io.netty.handler.codec.http.HttpServerUpgradeHandler.class) != null
                    && p.get(NAME) == null) {
                p.addAfter(codec.name(), NAME, UpgradeWithoutBody.INSTANCE);
            }
        });
    }

    @ChannelHandler.Sharable
    static final class UpgradeWithoutBody extends ChannelInboundHandlerAdapter {
        static final UpgradeWithoutBody INSTANCE = new UpgradeWithoutBody();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request && request.headers().contains(HttpHeaderNames.UPGRADE)
                    && (HttpUtil.getContentLength(request, 0L) > 0 || HttpUtil.isTransferEncodingChunked(request))) {
                request.headers().remove(HttpHeaderNames.UPGRADE).remove("HTTP2-Settings");
                String connection = request.headers().get(HttpHeaderNames.CONNECTION);
                if (connection != null) {
                    String kept = Arrays.stream(connection.split(",")).map(String::trim)
                            .filter(t -> !t.isEmpty() && !t.toLowerCase(Locale.ROOT).equals("upgrade")
                                    && !t.toLowerCase(Locale.ROOT).equals("http2-settings"))
                            .collect(Collectors.joining(", "));
                    if (kept.isEmpty()) {
                        request.headers().remove(HttpHeaderNames.CONNECTION);
                    } else {
                        request.headers().set(HttpHeaderNames.CONNECTION, kept);
                    }
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
