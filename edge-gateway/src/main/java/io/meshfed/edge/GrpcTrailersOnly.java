package io.meshfed.edge;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ServerWebExchange;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Keeps a gRPC upstream's Trailers-Only answer whole. A gRPC server that fails a call before any message answers
 * with one HEADERS frame that ends the stream and carries the status and the trailing metadata (gRPC over HTTP/2:
 * "Trailers-Only"). Spring Cloud Gateway's {@code GRPCResponseHeadersFilter} moves only {@code grpc-status} and
 * {@code grpc-message} into the downstream's trailers; the call's other trailing metadata would travel as response
 * headers, where a gRPC client does not look for it. This filter, after that one, moves all of it into the trailers
 * (replacing its trailer writer with one that writes the status, the message and the rest), and leaves only
 * {@code content-type} as a header. Answers with messages are untouched: their trailers cross as they are.
 */
final class GrpcTrailersOnly implements HttpHeadersFilter, Ordered {
    private static final String GRPC_STATUS = "grpc-status";
    /** Headers of the answer, not trailing metadata. */
    private static final Set<String> HEADERS = Set.of("content-type", "content-length", "date", "server");

    @Override
    public HttpHeaders filter(HttpHeaders input, ServerWebExchange exchange) {
        String contentType = exchange.getRequest().getHeaders().getFirst(HttpHeaders.CONTENT_TYPE);
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/grpc")
                || input.getFirst(GRPC_STATUS) == null) {
            return input;
        }
        HttpHeaders headers = new HttpHeaders();
        List<Map.Entry<String, List<String>>> trailers = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : input.headerSet()) {
            if (HEADERS.contains(e.getKey().toLowerCase(Locale.ROOT))) {
                headers.addAll(e.getKey(), e.getValue());
            } else {
                trailers.add(Map.entry(e.getKey(), List.copyOf(e.getValue())));
            }
        }
        Object response = ServerHttpResponseDecorator.getNativeResponse(exchange.getResponse());
        if (!(response instanceof HttpServerResponse nativeResponse)) {
            return input; // not on Reactor Netty: leave the answer as Spring Cloud Gateway makes it
        }
        nativeResponse.trailerHeaders(h -> trailers.forEach(e -> e.getValue().forEach(v -> h.add(e.getKey(), v))));
        return headers;
    }

    @Override
    public boolean supports(Type type) {
        return type == Type.RESPONSE;
    }

    /** After Spring Cloud Gateway's gRPC filter (order 0), whose trailer writer this one replaces. */
    @Override
    public int getOrder() {
        return 1;
    }
}
