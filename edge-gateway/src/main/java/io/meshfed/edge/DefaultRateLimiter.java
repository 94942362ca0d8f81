package io.meshfed.edge;

import java.util.Map;
import org.springframework.cloud.gateway.filter.ratelimit.RateLimiter;
import reactor.core.publisher.Mono;

/**
 * The limiter {@code RequestRateLimiter} uses when a route names none, chosen by {@code meshfed.edge.rate-limiter}:
 * {@code local} (default, a token bucket in this process, {@link LocalRateLimiter}) or {@code redis} (Spring Cloud
 * Gateway's {@code RedisRateLimiter}, one budget shared by every edge gateway on the same Redis; configured per
 * route with {@code redis-rate-limiter.*}).
 */
final class DefaultRateLimiter implements RateLimiter<Object> {
    private final RateLimiter<Object> delegate;

    @SuppressWarnings("unchecked")
    DefaultRateLimiter(RateLimiter<?> delegate) {
        this.delegate = (RateLimiter<Object>) delegate;
    }

    static String problem(String kind) {
        return "local".equals(kind) || "redis".equals(kind) ? null
                : "meshfed.edge.rate-limiter must be local or redis, not '" + kind + "'";
    }

    RateLimiter<Object> delegate() {
        return delegate;
    }

    @Override
    public Mono<Response> isAllowed(String routeId, String id) {
        return delegate.isAllowed(routeId, id);
    }

    @Override
    public Map<String, Object> getConfig() {
        return delegate.getConfig();
    }

    @Override
    public Class<Object> getConfigClass() {
        return delegate.getConfigClass();
    }

    @Override
    public Object newConfig() {
        return delegate.newConfig();
    }
}
