package io.meshfed.edge;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;
import org.springframework.cloud.gateway.filter.ratelimit.AbstractRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;
import reactor.core.publisher.Mono;

/**
 * The edge gateway's default rate limiter for {@code RequestRateLimiter}: a token bucket per route and client key,
 * in this process (no Redis needed). Per route: {@code local-rate-limiter.replenish-rate} tokens per second,
 * {@code local-rate-limiter.burst-capacity} at most, {@code local-rate-limiter.requested-tokens} per request. A
 * refused request gets 429 with {@code Retry-After} (whole seconds until enough tokens are back) and the
 * {@code X-RateLimit-*} headers Spring Cloud Gateway's Redis limiter sends.
 */
public final class LocalRateLimiter extends AbstractRateLimiter<LocalRateLimiter.Config> {
    public static final String CONFIGURATION_PROPERTY_NAME = "local-rate-limiter";
    private static final int MAX_BUCKETS = 100_000;

    /** Per-route settings; defaults 10 per second, bursts of 20. */
    public static class Config {
        private int replenishRate = 10;
        private long burstCapacity = 20;
        private int requestedTokens = 1;

        public int getReplenishRate() {
            return replenishRate;
        }

        public Config setReplenishRate(int replenishRate) {
            this.replenishRate = replenishRate;
            return this;
        }

        public long getBurstCapacity() {
            return burstCapacity;
        }

        public Config setBurstCapacity(long burstCapacity) {
            this.burstCapacity = burstCapacity;
            return this;
        }

        public int getRequestedTokens() {
            return requestedTokens;
        }

        public Config setRequestedTokens(int requestedTokens) {
            this.requestedTokens = requestedTokens;
            return this;
        }
    }

    private static final class Bucket {
        double tokens;
        long updatedNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.updatedNanos = now;
        }
    }

    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final LongSupplier nanos;

    public LocalRateLimiter(ConfigurationService configurationService) {
        this(configurationService, System::nanoTime);
    }

    LocalRateLimiter(ConfigurationService configurationService, LongSupplier nanos) {
        super(Config.class, CONFIGURATION_PROPERTY_NAME, configurationService);
        this.nanos = nanos;
    }

    @Override
    public Mono<Response> isAllowed(String routeId, String id) {
        Config c = getConfig().getOrDefault(routeId, new Config());
        if (c.getReplenishRate() <= 0 || c.getBurstCapacity() < c.getRequestedTokens()) {
            return Mono.error(new IllegalArgumentException("route " + routeId + ": " + CONFIGURATION_PROPERTY_NAME
                    + " needs replenish-rate > 0 and burst-capacity >= requested-tokens"));
        }
        long now = nanos.getAsLong();
        if (buckets.size() > MAX_BUCKETS) {
            buckets.clear(); // a flood of distinct keys: start over rather than grow without bound
        }
        Bucket b = buckets.computeIfAbsent(routeId + "\u0000" + id, k -> new Bucket(c.getBurstCapacity(), now));
        boolean allowed;
        double remaining;
        long retryAfter = 0;
        synchronized (b) {
            double refill = (now - b.updatedNanos) / 1e9 * c.getReplenishRate();
            b.tokens = Math.min(c.getBurstCapacity(), b.tokens + refill);
            b.updatedNanos = now;
            allowed = b.tokens >= c.getRequestedTokens();
            if (allowed) {
                b.tokens -= c.getRequestedTokens();
            } else {
                retryAfter = (long) Math.ceil((c.getRequestedTokens() - b.tokens) / c.getReplenishRate());
            }
            remaining = b.tokens;
        }
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put("X-RateLimit-Remaining", String.valueOf((long) Math.floor(remaining)));
        headers.put("X-RateLimit-Replenish-Rate", String.valueOf(c.getReplenishRate()));
        headers.put("X-RateLimit-Burst-Capacity", String.valueOf(c.getBurstCapacity()));
        headers.put("X-RateLimit-Requested-Tokens", String.valueOf(c.getRequestedTokens()));
        if (!allowed) {
            headers.put("Retry-After", String.valueOf(Math.max(1, retryAfter)));
        }
        return Mono.just(new Response(allowed, headers));
    }
}
