package io.meshfed.gateway;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.CallerRules;
import io.meshfed.dataplane.RouteTable;
import io.meshfed.dataplane.SnapshotTargets;
import io.meshfed.dataplane.SourceAttestation;
import io.meshfed.dataplane.Target;
import io.meshfed.dataplane.Tier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a snapshot means for an east-west gateway. Inbound: each port of each service with endpoints in the
 * gateway's own network, reachable by the callers its authorization policy allows (exported-to trust domains and
 * allow rules, minus deny rules); only own-network endpoints,
 * so a gateway never forwards one network's traffic on to a third. Outbound: each listener the controller
 * allocated, on {@code outboundBind}, carried to own-network endpoints first and then to the other networks'
 * gateways in the snapshot's order.
 */
final class GatewayRoutes {
    private GatewayRoutes() {}

    static RouteTable of(ConfigSnapshot snapshot, InetAddress outboundBind) {
        requireNonNull(snapshot, "snapshot");
        Map<ServiceSni, Target> inbound = new HashMap<>();
        for (Service s : snapshot.getServicesList()) {
            Set<String> allowed = SnapshotTargets.allowedTrustDomains(snapshot, s.getName(), s.getNamespace());
            CallerRules callers = SnapshotTargets.callerRules(snapshot, s.getName(), s.getNamespace());
            TreeSet<Integer> ports = new TreeSet<>();
            s.getNetworksList().stream().filter(NetworkEndpoints::getLocal)
                    .forEach(n -> n.getEndpointsList().stream().map(Endpoint::getPort).forEach(ports::add));
            for (int port : ports) {
                List<Tier> local = SnapshotTargets.tiers(s, port, false);
                inbound.put(new ServiceSni(port, s.getName(), s.getNamespace()),
                        new Target(s.getName() + "." + s.getNamespace() + ":" + port, local, allowed, callers));
            }
        }
        Map<InetSocketAddress, Target> outbound = new HashMap<>();
        for (OutboundListener l : snapshot.getOutboundList()) {
            SnapshotTargets.service(snapshot, l.getService(), l.getNamespace()).ifPresent(s -> outbound.put(
                    new InetSocketAddress(outboundBind, l.getListenPort()),
                    new Target(s.getName() + "." + s.getNamespace() + ":" + l.getServicePort(),
                            SnapshotTargets.tiers(s, l.getServicePort(), true), Set.of())));
        }
        return new RouteTable(snapshot.getVersion(), inbound, outbound,
                java.util.Set.copyOf(snapshot.getRevokedIdentitiesList()),
                java.util.Set.copyOf(snapshot.getForwardingTrustDomainsList()));
    }

    /**
     * The sources the gateway's outbound listeners attest: the snapshot's attested pods, only workload IDs of the
     * gateway's own trust domain {@code own}.
     *
     * @throws IllegalArgumentException when the snapshot lists a malformed or foreign entry (see
     *     {@link SourceAttestation#of})
     */
    static SourceAttestation attestation(ConfigSnapshot snapshot, io.meshfed.trust.TrustDomain own) {
        return SourceAttestation.of(snapshot, own);
    }
}
