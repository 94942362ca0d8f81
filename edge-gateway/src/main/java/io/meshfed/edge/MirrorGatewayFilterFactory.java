package io.meshfed.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.factory.AbstractGatewayFilterFactory;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * {@code Mirror=URI[,PERCENT]}: sends a copy of a share of the requests (method, path and query, headers, body)
 * to a shadow upstream, as a mesh's traffic mirroring does. The copy is fire and forget: the client gets the
 * route's own answer, never waits for the mirror and never sees its failures. URI is {@code http://host:port}
 * or {@code lb://name.namespace} (a mesh service, reached like any {@code lb://} route). The copy carries
 * {@code X-Meshfed-Mirror: <route id>}; outcomes are counted in {@code meshfed_edge_mirror_requests_total{route,
 * outcome}} (outcome: the status class, {@code error} or {@code unavailable}).
 */
public class MirrorGatewayFilterFactory extends AbstractGatewayFilterFactory<MirrorGatewayFilterFactory.Config> {
    static final String HEADER = "X-Meshfed-Mirror";
    private static final Logger LOG = LoggerFactory.getLogger(MirrorGatewayFilterFactory.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Set<String> NOT_COPIED = Set.of("host", "content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "proxy-connection", "expect");

    public static class Config {
        private URI uri;
        private int percent = 100;

        public URI getUri() {
            return uri;
        }

        public void setUri(URI uri) {
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!Set.of("http", "https", "lb").contains(scheme) || uri.getHost() == null) {
                throw new IllegalArgumentException("Mirror uri must be http://host:port or lb://name.namespace, not "
                        + uri);
            }
            this.uri = uri;
        }

        public int getPercent() {
            return percent;
        }

        public void setPercent(int percent) {
            if (percent < 0 || percent > 100) {
                throw new IllegalArgumentException("Mirror percent must be 0-100, not " + percent);
            }
            this.percent = percent;
        }
    }

    private final HttpClient client = HttpClient.create().responseTimeout(TIMEOUT);
    private final Function<String, Optional<InetSocketAddress>> meshListeners;
    private final MeterRegistry meters;

    public MirrorGatewayFilterFactory(Function<String, Optional<InetSocketAddress>> meshListeners,
            MeterRegistry meters) {
        super(Config.class);
        this.meshListeners = meshListeners;
        this.meters = meters;
    }

    @Override
    public List<String> shortcutFieldOrder() {
        return List.of("uri", "percent");
    }

    @Override
    public GatewayFilter apply(Config config) {
        if (config.getUri() == null) {
            throw new IllegalArgumentException("Mirror needs a uri");
        }
        return (exchange, chain) -> {
            if (ThreadLocalRandom.current().nextInt(100) >= config.getPercent()) {
                return chain.filter(exchange);
            }
            return ServerWebExchangeUtils.cacheRequestBodyAndRequest(exchange, cached -> {
                DataBuffer body = exchange.getAttribute(ServerWebExchangeUtils.CACHED_REQUEST_BODY_ATTR);
                byte[] bytes = new byte[body == null ? 0 : body.readableByteCount()];
                if (body != null) {
                    body.toByteBuffer(body.readPosition(), java.nio.ByteBuffer.wrap(bytes), 0, bytes.length);
                }
                send(config.getUri(), routeId(exchange), cached, bytes);
                return chain.filter(exchange.mutate().request(cached).build());
            });
        };
    }

    private void send(URI target, String route, ServerHttpRequest request, byte[] body) {
        Optional<URI> base = resolve(target);
        if (base.isEmpty()) {
            count(route, "unavailable");
            return;
        }
        String pathAndQuery = request.getURI().getRawPath()
                + (request.getURI().getRawQuery() == null ? "" : "?" + request.getURI().getRawQuery());
        client.headers(h -> {
            request.getHeaders().forEach((name, values) -> {
                if (!NOT_COPIED.contains(name.toLowerCase(Locale.ROOT))) {
                    h.add(name, values);
                }
            });
            h.set(HEADER, route);
            if ("lb".equalsIgnoreCase(target.getScheme())) {
                h.set("Host", target.getHost()); // the service's name, as for lb:// routes (see MeshServiceHost)
            }
        })
                .request(io.netty.handler.codec.http.HttpMethod.valueOf(request.getMethod().name()))
                .uri(base.get().resolve(pathAndQuery))
                .send(body.length == 0 ? Mono.empty() : Mono.just(Unpooled.wrappedBuffer(body)))
                .responseSingle((response, content) -> content.then(Mono.just(response.status().code())))
                .timeout(TIMEOUT)
                .subscribe(status -> count(route, (status / 100) + "xx"), e -> {
                    LOG.debug("mirror of route {} to {} failed: {}", route, target, e.toString());
                    count(route, "error");
                });
    }

    private Optional<URI> resolve(URI target) {
        if (!"lb".equalsIgnoreCase(target.getScheme())) {
            return Optional.of(target);
        }
        return meshListeners.apply(target.getHost())
                .map(a -> URI.create("http://" + a.getHostString() + ":" + a.getPort()));
    }

    private void count(String route, String outcome) {
        meters.counter("meshfed.edge.mirror.requests", "route", route, "outcome", outcome).increment();
    }

    private static String routeId(ServerWebExchange exchange) {
        org.springframework.cloud.gateway.route.Route route = exchange.getAttribute(
                ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
        return route == null ? "unknown" : route.getId();
    }
}
