package io.meshfed.controller.server;

import io.grpc.Status;
import io.meshfed.controller.server.HttpEndpoint.AdminHandler;
import io.meshfed.controller.server.HttpEndpoint.Response;
import io.meshfed.controller.text.ReportedText;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes a complete request: {@code /healthz} and {@code /readyz} answered on the event loop; {@code /metrics},
 * (on the HTTPS port) {@code /v1/admin/METHOD} and the SPIFFE bundle endpoint
 * {@code GET /.well-known/spiffe-bundle/<trust-domain>} run on the bounded workers, as they may wait for the store.
 */
@ChannelHandler.Sharable
final class EndpointRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointRoutes.class);
    static final String ADMIN_PREFIX = "/v1/admin/";
    static final String BUNDLE_PREFIX = "/.well-known/spiffe-bundle/";
    static final String TEXT = "text/plain";
    static final String JSON = "application/json";
    static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * What the routes call; {@code admin} and {@code bundles} (a trust domain's SPIFFE bundle JSON, empty when it is
     * not served) are null on the probe port.
     */
    record Handlers(BooleanSupplier ready, Supplier<String> metrics, AdminHandler admin,
            Function<String, Optional<String>> bundles) {}

    private final Handlers handlers;
    private final Executor workers;

    EndpointRoutes(Handlers handlers, Executor workers) {
        this.handlers = handlers;
        this.workers = workers;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            refuseMalformed(ctx, request.decoderResult().cause());
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        String path = new QueryStringDecoder(request.uri()).path();
        switch (path) {
            case "/healthz" -> respond(ctx, keepAlive, new Response(200, TEXT, "ok\n"));
            case "/readyz" -> respond(ctx, keepAlive, handlers.ready().getAsBoolean()
                    ? new Response(200, TEXT, "ready\n") : new Response(503, TEXT, "not ready\n"));
            case "/metrics" -> {
                if (handlers.metrics() == null) {
                    respond(ctx, keepAlive, new Response(404, TEXT, "no such path: /metrics; this port serves /healthz,"
                            + " /readyz and " + BUNDLE_PREFIX + "TRUST-DOMAIN\n"));
                } else {
                    offload(ctx, keepAlive, false, () -> new Response(200, PROMETHEUS, handlers.metrics().get()));
                }
            }
            default -> {
                if (handlers.admin() != null && path.startsWith(ADMIN_PREFIX)) {
                    admin(ctx, keepAlive, request, path.substring(ADMIN_PREFIX.length()));
                } else if (handlers.bundles() != null && path.startsWith(BUNDLE_PREFIX)) {
                    bundle(ctx, keepAlive, request, path.substring(BUNDLE_PREFIX.length()));
                } else {
                    respond(ctx, keepAlive, new Response(404, TEXT, "no such path: " + path + "; this port serves "
                            + (handlers.admin() != null ? "/healthz, /readyz, /metrics, " + BUNDLE_PREFIX
                                    + "TRUST-DOMAIN and " + ADMIN_PREFIX + "METHOD"
                                    : handlers.bundles() != null ? "/healthz, /readyz and " + BUNDLE_PREFIX
                                    + "TRUST-DOMAIN" : "/healthz, /readyz and /metrics") + "\n"));
                }
            }
        }
    }

    private void admin(ChannelHandlerContext ctx, boolean keepAlive, FullHttpRequest request, String method) {
        if (!HttpMethod.POST.equals(request.method())) {
            respond(ctx, keepAlive, new Response(405, JSON, ErrorMapping.jsonBody(Status.Code.INVALID_ARGUMENT.name(),
                    "use POST with a JSON body")));
            return;
        }
        String body = request.content().toString(StandardCharsets.UTF_8);
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        SSLSession session = ssl == null ? null : ssl.engine().getSession();
        offload(ctx, keepAlive, true, () -> handlers.admin().handle(method, body, session));
    }

    private void bundle(ChannelHandlerContext ctx, boolean keepAlive, FullHttpRequest request, String trustDomain) {
        if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
            respond(ctx, keepAlive, new Response(405, TEXT, "the SPIFFE bundle endpoint answers GET only\n"));
            return;
        }
        offload(ctx, keepAlive, false, () -> handlers.bundles().apply(trustDomain)
                .map(json -> new Response(200, JSON, json))
                .orElseGet(() -> new Response(404, TEXT, "no bundle of trust domain '" + printable(trustDomain)
                        + "' is served here: this endpoint serves the federation's own trust domain and its members'"
                        + " (not external or federated ones)\n")));
    }

    /** At most 255 characters of {@code s}, every one outside printable ASCII as '?': safe to echo back. */
    private static String printable(String s) {
        return ReportedText.ascii(s, 255);
    }

    private void offload(ChannelHandlerContext ctx, boolean keepAlive, boolean json, Supplier<Response> work) {
        try {
            workers.execute(() -> {
                Response response;
                try {
                    response = work.get();
                } catch (RuntimeException | StackOverflowError e) {
                    // Every request is answered, whatever escaped its handler.
                    Status status = ErrorMapping.status(e, json ? "JSON admin call" : "HTTP handler");
                    response = json ? ErrorMapping.httpResponse(status)
                            : new Response(500, TEXT, "internal error; see the controller's log\n");
                }
                respond(ctx, keepAlive, response);
            });
        } catch (RejectedExecutionException e) {
            String message = "the controller is busy: " + HttpEndpoint.WORKERS + " calls running and "
                    + HttpEndpoint.QUEUE + " waiting on this port; retry shortly";
            respond(ctx, false, json ? ErrorMapping.httpResponse(Status.UNAVAILABLE.withDescription(message))
                    : new Response(503, TEXT, message + "\n"));
        }
    }

    private static void refuseMalformed(ChannelHandlerContext ctx, Throwable cause) {
        HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                : HttpResponseStatus.BAD_REQUEST;
        String reason = cause instanceof TooLongFrameException
                ? "request line over " + HttpEndpoint.MAX_INITIAL_LINE + " bytes or headers over "
                        + HttpEndpoint.MAX_HEADERS + " bytes"
                : "malformed HTTP request: " + cause.getMessage();
        respond(ctx, false, new Response(status.code(), TEXT, reason + "\n"));
    }

    /** Writes {@code response}; thread-safe (Netty hands the write to the channel's event loop). */
    static void respond(ChannelHandlerContext ctx, boolean keepAlive, Response response) {
        io.meshfed.dataplane.HttpReplies.send(ctx, keepAlive, response.status(), response.contentType(),
                response.body());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // TLS handshake failures, resets and the like: the connection is of no further use; nothing to tell.
        LOG.debug("HTTP connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
