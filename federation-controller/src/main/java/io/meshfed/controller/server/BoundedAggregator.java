package io.meshfed.controller.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Collects a request of at most {@code maxBody} bytes of body; a larger one gets a 413 that says the limit, also
 * when the client waits for {@code 100 Continue} before sending it (then the body is never sent).
 */
final class BoundedAggregator extends HttpObjectAggregator {
    private final int maxBody;

    BoundedAggregator(int maxBody) {
        super(maxBody);
        this.maxBody = maxBody;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        EndpointRoutes.respond(ctx, false, new HttpEndpoint.Response(413, EndpointRoutes.JSON, tooLarge()));
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof FullHttpResponse netty
                && netty.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            netty.release();
            byte[] body = tooLarge().getBytes(StandardCharsets.UTF_8);
            FullHttpResponse json = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Unpooled.wrappedBuffer(body));
            json.headers().set(HttpHeaderNames.CONTENT_TYPE, EndpointRoutes.JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            return json;
        }
        return response;
    }

    private String tooLarge() {
        return ErrorMapping.jsonBody("INVALID_ARGUMENT", "request body over " + maxBody + " bytes, the limit of this"
                + " port; send a smaller request");
    }
}
