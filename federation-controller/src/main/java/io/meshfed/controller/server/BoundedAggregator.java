package io.meshfed.controller.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;

/** Collects a request of at most {@code maxBody} bytes of body; a larger one gets a 413 that says the limit. */
final class BoundedAggregator extends HttpObjectAggregator {
    private final int maxBody;

    BoundedAggregator(int maxBody) {
        super(maxBody);
        this.maxBody = maxBody;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        EndpointRoutes.respond(ctx, false, new HttpEndpoint.Response(413, EndpointRoutes.JSON,
                "{\"code\":\"INVALID_ARGUMENT\",\"error\":\"request body over " + maxBody + " bytes\"}\n"));
    }
}
