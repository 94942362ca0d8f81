package io.meshfed.dataplane;

import io.meshfed.api.HostPort;
import io.meshfed.api.Locality;
import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SpiffeIdPattern;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a config snapshot the way every proxy does: the upstreams of a service port, tier by network in the
 * snapshot's order (the subscriber's own network first, then the others), and who may connect to a service (the
 * exported-to trust domains and the admin's caller rules).
 */
public final class SnapshotTargets {
    private SnapshotTargets() {}

    public static Optional<Service> service(ConfigSnapshot snapshot, String name, String namespace) {
        return snapshot.getServicesList().stream()
                .filter(s -> s.getName().equals(name) && s.getNamespace().equals(namespace)).findFirst();
    }

    /** As {@link #tiers(Service, int, boolean, Locality)} for a proxy that does not know its own locality. */
    public static List<Tier> tiers(Service service, int port, boolean includeRemote) {
        return tiers(service, port, includeRemote, Locality.UNKNOWN);
    }

    /**
     * The upstreams of {@code port} of {@code service}: own-network endpoints directly (through their agent's mTLS
     * listener when they have one, expecting the agent's identity), with their weights, in up to three tiers by
     * nearness to {@code own} (same zone, same region, the rest; one tier when {@code own} is unknown); then other
     * networks through their east-west gateway (its tunnel listener when the route names one, else its SNI listener
     * with the service's SNI), expecting one of the route's identities.
     */
    public static List<Tier> tiers(Service service, int port, boolean includeRemote, Locality own) {
        ServiceSni sni = new ServiceSni(port, service.getName(), service.getNamespace());
        List<Tier> tiers = new ArrayList<>();
        for (NetworkEndpoints n : service.getNetworksList()) {
            List<Upstream> upstreams = new ArrayList<>();
            if (n.getLocal()) {
                tiers.addAll(localTiers(n, port, sni, own));
                continue;
            } else if (includeRemote) {
                for (GatewayRoute r : n.getRoutesList()) {
                    if (r.getPort() == port) {
                        upstreams.add(remote(n.getNetwork(), r, sni));
                    }
                }
            }
            if (!upstreams.isEmpty()) {
                tiers.add(new Tier(n.getNetwork(), upstreams));
            }
        }
        return tiers;
    }

    /**
     * Another network's gateway: through its tunnel listener when the route names one (a stream of a pooled tunnel,
     * the service port in the stream's authority), else a TLS connection to its SNI listener with the route's SNI.
     * The same identities must answer either way.
     */
    private static Upstream remote(String network, GatewayRoute r, ServiceSni sni) {
        Set<SpiffeId> ids = identities(r.getIdentitiesList());
        if (!r.getTunnelAddress().isEmpty()) {
            InetSocketAddress tunnel = HostPort.parse(r.getTunnelAddress());
            return Upstream.tunnel(network, tunnel.getHostString(), tunnel.getPort(), sni.toString(), ids);
        }
        InetSocketAddress gw = HostPort.parse(r.getGatewayAddress());
        return Upstream.gateway(network, gw.getHostString(), gw.getPort(),
                r.getSni().isEmpty() ? sni.toString() : r.getSni(), ids);
    }

    /** The own network's endpoints of {@code port}, tiered by nearness to {@code own}, with their weights. */
    private static List<Tier> localTiers(NetworkEndpoints n, int port, ServiceSni sni, Locality own) {
        java.util.Map<Locality.Proximity, List<Endpoint>> byNearness = new java.util.EnumMap<>(
                Locality.Proximity.class);
        for (Endpoint e : n.getEndpointsList()) {
            if (e.getPort() == port) {
                Locality.Proximity p = own.known() ? own.proximity(Locality.parse(e.getLocality()))
                        : Locality.Proximity.OTHER;
                byNearness.computeIfAbsent(p, k -> new ArrayList<>()).add(e);
            }
        }
        List<Tier> tiers = new ArrayList<>();
        for (List<Endpoint> endpoints : byNearness.values()) { // nearest first (enum order)
            tiers.add(new Tier(n.getNetwork(), endpoints.stream().map(e -> endpoint(n.getNetwork(), e, sni)).toList(),
                    endpoints.stream().map(e -> Math.max(1, e.getWeight())).toList()));
        }
        return tiers;
    }

    private static Upstream endpoint(String network, Endpoint e, ServiceSni sni) {
        if (e.getInbound().isEmpty()) {
            return Upstream.plain(network, e.getAddress(), e.getPort());
        }
        InetSocketAddress inbound = HostPort.parse(e.getInbound());
        return new Upstream(network, inbound.getHostString(), inbound.getPort(), Upstream.Hop.AGENT, sni.toString(),
                e.getIdentity().isEmpty() ? Set.of() : Set.of(SpiffeId.parse(e.getIdentity())));
    }

    /** The SPIFFE IDs a route names; a malformed one fails the snapshot (the subscriber rejects it). */
    private static Set<SpiffeId> identities(List<String> ids) {
        return ids.stream().map(SpiffeId::parse).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /**
     * The admin's caller rules for the service (none when the snapshot names none). A rule with an unknown effect or a
     * malformed pattern fails the snapshot (the subscriber rejects it, keeping the config it has): ignoring a deny
     * rule would let in a caller an admin refused.
     */
    public static CallerRules callerRules(ConfigSnapshot snapshot, String name, String namespace) {
        for (AuthorizationPolicy p : snapshot.getAuthorizationList()) {
            if (p.getService().equals(name) && p.getNamespace().equals(namespace)) {
                List<CallerRules.Rule> rules = new ArrayList<>();
                for (CallerRule r : p.getRulesList()) {
                    CallerRules.Effect effect = switch (r.getEffect()) {
                        case ALLOW -> CallerRules.Effect.ALLOW;
                        case DENY -> CallerRules.Effect.DENY;
                        default -> throw new IllegalArgumentException("caller rule '" + r.getId() + "' of " + name
                                + "." + namespace + " has no known effect (" + r.getEffectValue() + ")");
                    };
                    rules.add(new CallerRules.Rule(r.getId(), effect, SpiffeIdPattern.parse(r.getFrom())));
                }
                return new CallerRules(rules);
            }
        }
        return CallerRules.NONE;
    }

    /** Trust domains whose peers may connect to the service (empty when the snapshot names none: deny). */
    public static Set<String> allowedTrustDomains(ConfigSnapshot snapshot, String name, String namespace) {
        for (AuthorizationPolicy p : snapshot.getAuthorizationList()) {
            if (p.getService().equals(name) && p.getNamespace().equals(namespace)) {
                return Set.copyOf(p.getAllowedTrustDomainsList());
            }
        }
        return Set.of();
    }
}
