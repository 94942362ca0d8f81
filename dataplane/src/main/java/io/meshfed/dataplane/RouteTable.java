package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;

/**
 * What a proxy does with its current config: inbound, the target of each SNI; outbound, the target of each local
 * listener; and the SPIFFE IDs an admin revoked, refused as inbound peers while their SVIDs may still be valid.
 * Immutable; a new config makes a new table that is swapped in atomically.
 */
public record RouteTable(String version, Map<ServiceSni, Target> inbound, Map<InetSocketAddress, Target> outbound,
        Set<String> revoked) {
    public RouteTable {
        inbound = Map.copyOf(inbound);
        outbound = Map.copyOf(outbound);
        revoked = Set.copyOf(revoked);
    }

    /** A table with no revoked identities. */
    public RouteTable(String version, Map<ServiceSni, Target> inbound, Map<InetSocketAddress, Target> outbound) {
        this(version, inbound, outbound, Set.of());
    }

    public static RouteTable empty() {
        return new RouteTable("", Map.of(), Map.of());
    }
}
