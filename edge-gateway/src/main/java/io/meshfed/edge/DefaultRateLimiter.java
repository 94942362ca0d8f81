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

    /** Adds {@code Retry-After} to a refusal that lacks it (Redis's limiter sends only {@code X-RateLimit-*}). */
    @Override
    public Mono<Response> isAllowed(String routeId, String id) {
        return delegate.isAllowed(routeId, id).map(DefaultRateLimiter::withRetryAfter);
    }

    static Response withRetryAfter(Response r) {
        Map<String, String> h = r.getHeaders();
        if (r.isAllowed() || h.containsKey("Retry-After")) {
            return r;
        }
        try {
            double rate = Double.parseDouble(h.get("X-RateLimit-Replenish-Rate"));
            double missing = Double.parseDouble(h.get("X-RateLimit-Requested-Tokens"))
                    - Math.max(0, Double.parseDouble(h.get("X-RateLimit-Remaining")));
            Map<String, String> more = new java.util.LinkedHashMap<>(h);
            more.put("Retry-After", String.valueOf(Math.max(1, (long) Math.ceil(missing / rate))));
            return new Response(false, more);
        } catch (NullPointerException | NumberFormatException e) {
            return r; // headers turned off (include-headers: false): nothing to compute from
        }
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
