package io.meshfed.dataplane;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where connections for one service port go: tiers of upstreams in failover order, and (inbound) the trust domains
 * whose peers may connect. {@code name} is how logs and errors name it ({@code hello.demo:8080}).
 */
public record Target(String name, List<Tier> tiers, Set<String> allowedTrustDomains, AtomicInteger cursor) {
    public Target {
        tiers = List.copyOf(tiers);
        allowedTrustDomains = Set.copyOf(allowedTrustDomains);
    }

    public Target(String name, List<Tier> tiers, Set<String> allowedTrustDomains) {
        this(name, tiers, allowedTrustDomains, new AtomicInteger());
    }

    public boolean hasUpstreams() {
        return tiers.stream().anyMatch(t -> !t.upstreams().isEmpty());
    }
}
