package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * What a proxy does with its current config: inbound, the target of each SNI; outbound, the target of each local
 * listener. Immutable; a new config makes a new table that is swapped in atomically.
 */
public record RouteTable(String version, Map<ServiceSni, Target> inbound, Map<InetSocketAddress, Target> outbound) {
    public RouteTable {
        inbound = Map.copyOf(inbound);
        outbound = Map.copyOf(outbound);
    }

    public static RouteTable empty() {
        return new RouteTable("", Map.of(), Map.of());
    }
}
