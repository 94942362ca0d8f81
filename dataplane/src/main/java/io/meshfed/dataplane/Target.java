package io.meshfed.dataplane;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where connections for one service port go: tiers of upstreams in failover order, and (inbound) who may connect:
 * the trust domains the service is exported to and the admin's caller rules for the service (see
 * {@link RouteTablePolicy}). {@code name} is how logs and errors name it ({@code hello.demo:8080}).
 */
public record Target(String name, List<Tier> tiers, Set<String> allowedTrustDomains, CallerRules callers,
        AtomicInteger cursor) {
    public Target {
        tiers = List.copyOf(tiers);
        allowedTrustDomains = Set.copyOf(allowedTrustDomains);
        callers = callers == null ? CallerRules.NONE : callers;
    }

    /** A target with caller rules. */
    public Target(String name, List<Tier> tiers, Set<String> allowedTrustDomains, CallerRules callers) {
        this(name, tiers, allowedTrustDomains, callers, new AtomicInteger());
    }

    /** A target whose callers are those of the export default only (no caller rules). */
    public Target(String name, List<Tier> tiers, Set<String> allowedTrustDomains) {
        this(name, tiers, allowedTrustDomains, CallerRules.NONE);
    }

    public boolean hasUpstreams() {
        return tiers.stream().anyMatch(t -> !t.upstreams().isEmpty());
    }
}
