package io.meshfed.gateway;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one snapshot means for the gateway, indexed for the data path: inbound, the local endpoints and allowed trust
 * domains per service port; outbound, the remote gateway routes per listener. Immutable; a new snapshot makes a new
 * instance that is swapped in atomically.
 */
public final class Routes {
    /** Local endpoints of one service port and who may reach them. */
    public record Inbound(List<InetSocketAddress> endpoints, Set<String> allowedTrustDomains, AtomicInteger next) {
        /** Round robin over the endpoints, starting where the last connection left off. */
        public List<InetSocketAddress> inOrder() {
            int start = Math.floorMod(next.getAndIncrement(), endpoints.size());
            List<InetSocketAddress> out = new ArrayList<>(endpoints.size());
            for (int i = 0; i < endpoints.size(); i++) {
                out.add(endpoints.get((start + i) % endpoints.size()));
            }
            return out;
        }
    }

    /** Where an outbound listener sends its connections: remote gateways, in the snapshot's order, with the SNI. */
    public record Outbound(OutboundListener listener, List<InetSocketAddress> gateways, String sni) {}

    private final String version;
    private final Map<Sni, Inbound> inbound;
    private final Map<Integer, Outbound> outbound;

    private Routes(String version, Map<Sni, Inbound> inbound, Map<Integer, Outbound> outbound) {
        this.version = version;
        this.inbound = inbound;
        this.outbound = outbound;
    }

    public static Routes empty() {
        return new Routes("", Map.of(), Map.of());
    }

    public static Routes of(ConfigSnapshot snapshot) {
        requireNonNull(snapshot, "snapshot");
        Map<String, Set<String>> allowed = new HashMap<>();
        for (AuthorizationPolicy p : snapshot.getAuthorizationList()) {
            allowed.put(p.getService() + "." + p.getNamespace(), Set.copyOf(p.getAllowedTrustDomainsList()));
        }
        Map<Sni, Inbound> inbound = new HashMap<>();
        Map<Integer, Outbound> outbound = new HashMap<>();
        for (Service s : snapshot.getServicesList()) {
            Set<String> who = allowed.getOrDefault(s.getName() + "." + s.getNamespace(), Set.of());
            for (NetworkEndpoints n : s.getNetworksList()) {
                if (!n.getLocal()) {
                    continue;
                }
                Map<Integer, List<InetSocketAddress>> byPort = new HashMap<>();
                for (Endpoint e : n.getEndpointsList()) {
                    byPort.computeIfAbsent(e.getPort(), p -> new ArrayList<>())
                            .add(InetSocketAddress.createUnresolved(e.getAddress(), e.getPort()));
                }
                byPort.forEach((port, endpoints) -> inbound.put(new Sni(port, s.getName(), s.getNamespace()),
                        new Inbound(List.copyOf(endpoints), who, new AtomicInteger())));
            }
        }
        for (OutboundListener l : snapshot.getOutboundList()) {
            Sni sni = new Sni(l.getServicePort(), l.getService(), l.getNamespace());
            List<InetSocketAddress> gateways = new ArrayList<>();
            snapshot.getServicesList().stream()
                    .filter(s -> s.getName().equals(l.getService()) && s.getNamespace().equals(l.getNamespace()))
                    .flatMap(s -> s.getNetworksList().stream()).filter(n -> !n.getLocal())
                    .flatMap(n -> n.getRoutesList().stream()).filter(r -> r.getPort() == l.getServicePort())
                    .map(GatewayRoute::getGatewayAddress).distinct()
                    .forEach(a -> gateways.add(io.meshfed.api.HostPort.parse(a)));
            outbound.put(l.getListenPort(), new Outbound(l, List.copyOf(gateways), sni.toString()));
        }
        return new Routes(snapshot.getVersion(), Map.copyOf(inbound), Map.copyOf(outbound));
    }


    public String version() {
        return version;
    }

    public Optional<Inbound> inbound(Sni sni) {
        return Optional.ofNullable(inbound.get(sni));
    }

    public Optional<Outbound> outbound(int listenPort) {
        return Optional.ofNullable(outbound.get(listenPort));
    }

    public boolean allows(String service, String namespace, String trustDomain) {
        return inbound.entrySet().stream().anyMatch(e -> e.getKey().service().equals(service)
                && e.getKey().namespace().equals(namespace) && e.getValue().allowedTrustDomains().contains(trustDomain));
    }

    public Set<Integer> outboundPorts() {
        return outbound.keySet();
    }
}
