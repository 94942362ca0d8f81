package io.meshfed.agent;

import io.meshfed.agent.config.AgentConfig;
import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.dataplane.CallerRules;
import io.meshfed.dataplane.RouteTable;
import io.meshfed.dataplane.SnapshotTargets;
import io.meshfed.dataplane.Target;
import io.meshfed.dataplane.Tier;
import io.meshfed.dataplane.Upstream;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a snapshot means for an agent. Inbound: each service this VM declares, forwarded to its local target, open
 * to the callers the snapshot's authorization policy allows for it (its trust domains and allow rules, minus deny
 * rules; nobody until the controller lists it: deny).
 * Outbound: each declared import on its local listener, carried to own-network endpoints first (directly, with
 * mTLS to their agent) and then to the other networks' gateways.
 */
final class AgentRoutes {
    private AgentRoutes() {}

    static RouteTable of(ConfigSnapshot snapshot, AgentConfig config, String network) {
        Map<ServiceSni, Target> inbound = new HashMap<>();
        for (AgentConfig.LocalService s : config.services()) {
            Set<String> allowed = SnapshotTargets.allowedTrustDomains(snapshot, s.name(), s.namespace());
            CallerRules callers = SnapshotTargets.callerRules(snapshot, s.name(), s.namespace());
            InetSocketAddress t = s.target();
            inbound.put(new ServiceSni(s.port(), s.name(), s.namespace()), new Target(s.key(),
                    List.of(new Tier(network, List.of(Upstream.plain(network, t.getHostString(), t.getPort())))),
                    allowed, callers));
        }
        Map<InetSocketAddress, Target> outbound = new HashMap<>();
        for (AgentConfig.Import i : config.imports()) {
            List<Tier> tiers = SnapshotTargets.service(snapshot, i.service(), i.namespace())
                    .map(s -> SnapshotTargets.tiers(s, i.port(), true,
                            io.meshfed.api.Locality.parse(config.locality()))).orElse(List.of()); // own zone first
            outbound.put(i.listen(), new Target(i.key(), tiers, Set.of()));
        }
        return new RouteTable(snapshot.getVersion(), inbound, outbound,
                java.util.Set.copyOf(snapshot.getRevokedIdentitiesList()));
    }
}
