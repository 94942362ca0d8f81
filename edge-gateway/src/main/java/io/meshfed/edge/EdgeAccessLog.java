package io.meshfed.edge;

import static io.meshfed.dataplane.AccessLogJson.field;

import com.fasterxml.jackson.core.JsonGenerator;
import io.micrometer.tracing.handler.TracingObservationHandler;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.http.server.reactive.SslInfo;
import org.springframework.http.server.reactive.observation.ServerRequestObservationContext;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One {@code meshfed.access} line per request, in the gateways' and agents' JSON form (README.md, "Access logs"),
 * written when the answer is complete: {@code time}, {@code listener} ({@code edge}), {@code source}, {@code caller}
 * (the SPIFFE ID of a client certificate, when the client presented one), {@code method}, {@code path},
 * {@code route}, {@code service} (an {@code lb://} route's mesh service), {@code upstream}, {@code status},
 * {@code bytes_in}, {@code bytes_out}, {@code duration_ms}, {@code result} ({@code ok} when the upstream answered,
 * {@code refused} when the gateway answered itself, with its {@code reason}), {@code trace_id}.
 */
final class EdgeAccessLog implements WebFilter, Ordered {
    private static final Logger ACCESS = LoggerFactory.getLogger("meshfed.access");

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!ACCESS.isInfoEnabled()) {
            return chain.filter(exchange);
        }
        long startMillis = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        AtomicLong in = new AtomicLong();
        AtomicLong out = new AtomicLong();
        ServerWebExchange counted = exchange.mutate().request(new ServerHttpRequestDecorator(exchange.getRequest()) {
            @Override
            public Flux<DataBuffer> getBody() {
                return super.getBody().doOnNext(b -> in.addAndGet(b.readableByteCount()));
            }
        }).response(new ServerHttpResponseDecorator(exchange.getResponse()) {
            @Override
            public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
                return super.writeWith(Flux.from(body).doOnNext(b -> out.addAndGet(b.readableByteCount())));
            }

            @Override
            public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
                return super.writeAndFlushWith(Flux.from(body).map(p -> Flux.from(p)
                        .doOnNext(b -> out.addAndGet(b.readableByteCount()))));
            }
        }).build();
        return chain.filter(counted).doFinally(signal -> ACCESS.info(line(counted, startMillis,
                (System.nanoTime() - startNanos) / 1_000_000, in.get(), out.get(), signal.name())));
    }

    private static String line(ServerWebExchange exchange, long startMillis, long durationMillis, long in, long out,
            String signal) {
        StringWriter text = new StringWriter(320);
        try (JsonGenerator g = io.meshfed.dataplane.AccessLogJson.generator(text)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(startMillis).toString());
            g.writeStringField("listener", "edge");
            InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
            field(g, "source", remote == null ? null : remote.toString());
            field(g, "caller", caller(exchange.getRequest().getSslInfo()));
            g.writeStringField("method", exchange.getRequest().getMethod().name());
            g.writeStringField("path", exchange.getRequest().getPath().value());
            Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
            field(g, "route", route == null ? null : route.getId());
            field(g, "service", route != null && "lb".equals(route.getUri().getScheme()) ? route.getUri().getHost()
                    : null);
            URI upstream = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_REQUEST_URL_ATTR);
            boolean answered = exchange.getAttribute(ServerWebExchangeUtils.CLIENT_RESPONSE_ATTR) != null;
            field(g, "upstream", upstream == null || !answered ? null : upstream.getHost() + ":"
                    + upstream.getPort());
            HttpStatusCode status = exchange.getResponse().getStatusCode();
            if (status != null) {
                g.writeNumberField("status", status.value());
            }
            g.writeNumberField("bytes_in", in);
            g.writeNumberField("bytes_out", out);
            g.writeNumberField("duration_ms", durationMillis);
            if (answered) {
                g.writeStringField("result", "ok");
            } else if (signal.equals("CANCEL")) {
                g.writeStringField("result", "cancelled"); // the client went away first
            } else {
                g.writeStringField("result", "refused");
                g.writeStringField("reason", reason(route, status));
            }
            field(g, "trace_id", traceId(exchange));
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /** Why the gateway answered itself: the names a reader would search for. */
    private static String reason(Route route, HttpStatusCode status) {
        if (route == null) {
            return "no_route";
        }
        int code = status == null ? 0 : status.value();
        return switch (code) {
            case 429 -> "rate_limited";
            case 413 -> "request_too_large";
            case 502, 503, 504 -> "upstream_failed";
            default -> "answered_by_gateway_" + code; // a filter's own answer: SetStatus, RedirectTo, a fallback
        };
    }

    /** The SPIFFE ID of the client's certificate, when it presented an X.509-SVID. */
    private static String caller(SslInfo tls) {
        X509Certificate[] chain = tls == null ? null : tls.getPeerCertificates();
        if (chain == null || chain.length == 0) {
            return null;
        }
        try {
            return io.meshfed.trust.SvidCertificates.spiffeIdOf(chain[0]).toString();
        } catch (IllegalArgumentException notAnSvid) {
            return null; // a web PKI client certificate: no SPIFFE ID to name
        }
    }

    /** The trace of the request's server observation: the caller's, continued, or the one the gateway started. */
    private static String traceId(ServerWebExchange exchange) {
        Optional<ServerRequestObservationContext> context = ServerRequestObservationContext.findCurrent(
                exchange.getAttributes());
        return context.map(c -> c.<TracingObservationHandler.TracingContext>get(
                TracingObservationHandler.TracingContext.class)).map(TracingObservationHandler.TracingContext::getSpan)
                .map(s -> s.context().traceId())
                .filter(id -> !id.isEmpty()).orElse(null);
    }

    /** First, so its counters see every byte and its line every answer, the gateway's own too. */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
