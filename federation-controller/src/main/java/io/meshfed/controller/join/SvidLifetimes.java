package io.meshfed.controller.join;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.TrustDomain;
import java.time.Duration;
import java.util.Map;

/**
 * The SVID lifetimes join and renew give: what was asked for (24 h when nothing was), but never more than the
 * maximum of the SVID's trust domain (configured per trust domain, else the controller-wide maximum). A longer
 * request is not refused; it gets the maximum and is told so.
 */
public final class SvidLifetimes {
    public static final Duration DEFAULT_TTL = Duration.ofHours(24);

    private final Duration defaultMax;
    private final Map<String, Duration> maxByTrustDomain;

    /** The lifetime granted, the maximum that applied, and whether that maximum shortened the request. */
    public record Grant(Duration ttl, Duration max, boolean capped) {}

    public SvidLifetimes(Duration defaultMax, Map<String, Duration> maxByTrustDomain) {
        this.defaultMax = requireNonNull(defaultMax, "defaultMax");
        this.maxByTrustDomain = Map.copyOf(maxByTrustDomain);
    }

    public Duration max(TrustDomain td) {
        return maxByTrustDomain.getOrDefault(td.name(), defaultMax);
    }

    /** @param askedSeconds the request's {@code ttl_seconds}; 0 or less for the default */
    public Grant grant(TrustDomain td, long askedSeconds) {
        Duration max = max(td);
        Duration asked = askedSeconds <= 0 ? DEFAULT_TTL : Duration.ofSeconds(askedSeconds);
        return asked.compareTo(max) > 0 ? new Grant(max, max, true) : new Grant(asked, max, false);
    }
}
