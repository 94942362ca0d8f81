package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;

/**
 * What a proxy does with its current config: inbound, the target of each SNI; outbound, the target of each local
 * listener; the SPIFFE IDs an admin revoked, refused as inbound peers while their SVIDs may still be valid; and the
 * trust domains whose gateways may forward a caller's identity on a tunnel stream (the Kubernetes members', whose
 * gateways attest pods; {@code ConfigSnapshot.forwarding_trust_domains}). Immutable; a new config makes a new table
 * that is swapped in atomically.
 */
public record RouteTable(String version, Map<ServiceSni, Target> inbound, Map<InetSocketAddress, Target> outbound,
        Set<String> revoked, Set<String> forwarders) {
    public RouteTable {
        inbound = Map.copyOf(inbound);
        outbound = Map.copyOf(outbound);
        revoked = Set.copyOf(revoked);
        forwarders = Set.copyOf(forwarders);
    }

    /** A table in which no gateway may forward a caller's identity. */
    public RouteTable(String version, Map<ServiceSni, Target> inbound, Map<InetSocketAddress, Target> outbound,
            Set<String> revoked) {
        this(version, inbound, outbound, revoked, Set.of());
    }

    /** A table with no revoked identities. */
    public RouteTable(String version, Map<ServiceSni, Target> inbound, Map<InetSocketAddress, Target> outbound) {
        this(version, inbound, outbound, Set.of());
    }

    public static RouteTable empty() {
        return new RouteTable("", Map.of(), Map.of());
    }
}
