package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import java.util.EnumMap;
import java.util.Map;

/**
 * The connector of each {@link Upstream.Hop}, fixed when the proxy starts: every hop has exactly one, so choosing
 * one is a lookup, never a test of the hop in the data path.
 */
final class UpstreamConnectors {
    private final EnumMap<Upstream.Hop, UpstreamConnector> byHop;

    private UpstreamConnectors(EnumMap<Upstream.Hop, UpstreamConnector> byHop) {
        this.byHop = byHop;
    }

    /** @throws IllegalArgumentException when a hop has no connector */
    static UpstreamConnectors of(Map<Upstream.Hop, UpstreamConnector> connectors) {
        EnumMap<Upstream.Hop, UpstreamConnector> byHop = new EnumMap<>(Upstream.Hop.class);
        connectors.forEach((hop, c) -> byHop.put(requireNonNull(hop, "hop"), requireNonNull(c, "connector")));
        for (Upstream.Hop hop : Upstream.Hop.values()) {
            if (!byHop.containsKey(hop)) {
                throw new IllegalArgumentException("no upstream connector for hop " + hop);
            }
        }
        return new UpstreamConnectors(byHop);
    }

    UpstreamConnector forHop(Upstream.Hop hop) {
        return byHop.get(hop);
    }
}
