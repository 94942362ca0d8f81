package io.meshfed.controller.catalog;

import io.meshfed.api.Locality;
import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.NetworkGateway;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.ServiceResources;
import io.meshfed.controller.catalog.CatalogView.Instance;
import io.meshfed.controller.catalog.CatalogView.ServiceKey;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.server.Protos;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Computes what one subscriber may see. Default deny: an instance is visible to member M when it runs in M, its
 * service is exported to M, or an admin's allow policy of the service names callers in M's trust domain. Endpoints of M's own network are listed directly; other networks appear as one route per
 * service port through their east-west gateway, with the service's {@link ServiceSni}. Only
 * healthy endpoints count, and a network without one is left out. Pure: the same view gives the same snapshot.
 */
public final class SnapshotBuilder {
    private SnapshotBuilder() {}

    /** The snapshot of {@code member} in {@code network}, with its version set and no nonce or subscriber. */
    public static ConfigSnapshot build(CatalogView view, String member, String network) {
        return build(view, member, network, false);
    }

    /** As {@link #build(CatalogView, String, String)}; an edge gateway's snapshot also carries the routes. */
    public static ConfigSnapshot build(CatalogView view, String member, String network, boolean edge) {
        return build(view, member, network, edge ? SnapshotAudience.EDGE_GATEWAY : SnapshotAudience.OTHER);
    }

    /**
     * As {@link #build(CatalogView, String, String)} for {@code audience}: an edge gateway's snapshot also carries
     * the routes; an east-west gateway's the pods of its own member that it may attest.
     */
    public static ConfigSnapshot build(CatalogView view, String member, String network, SnapshotAudience audience) {
        ConfigSnapshot content = content(view, member, network, audience);
        return content.toBuilder().setVersion(io.meshfed.api.config.ConfigVersion.of(content)).build();
    }

    /** As {@link #build(CatalogView, String, String, SnapshotAudience)}, without its version. */
    public static ConfigSnapshot content(CatalogView view, String member, String network,
            SnapshotAudience audience) {
        boolean edge = audience == SnapshotAudience.EDGE_GATEWAY;
        ConfigSnapshot.Builder snapshot = ConfigSnapshot.newBuilder()
                .setMember(member)
                .setNetwork(network)
                .setBundles(Protos.bundleSet(view.bundles()))
                .addAllRevokedIdentities(view.revokedIdentities())
                .addAllForwardingTrustDomains(forwardingTrustDomains(view));
        MemberRecord own = view.members().get(member);
        if (own != null) {
            snapshot.setSvidIssuerRoot(view.renewTowardRoot(own.trustDomain()));
        }
        for (Map.Entry<ServiceKey, List<Instance>> e : view.services().entrySet()) {
            ServiceResources r = resources(view, e.getKey(), e.getValue(), member, network);
            if (r.hasService()) {
                snapshot.addServices(r.getService());
            }
            snapshot.addAllOutbound(r.getOutboundList());
            if (r.hasAuthorization()) {
                snapshot.addAuthorization(r.getAuthorization());
            }
        }
        new TreeMap<>(view.networks()).keySet().forEach(n -> {
            String address = view.gatewayAddress(n);
            if (!address.isEmpty()) {
                snapshot.addGateways(NetworkGateway.newBuilder().setNetwork(n).setAddress(address)
                        .setTunnelAddress(view.tunnelAddress(n)));
            }
        });
        if (edge) {
            snapshot.addAllRoutes(view.routes());
        }
        if (audience == SnapshotAudience.EAST_WEST_GATEWAY) {
            snapshot.addAllAttestedSources(AttestedSources.of(view, member));
        }
        return snapshot.build();
    }

    /**
     * The snapshot {@link #build} gives for {@code view}, made from {@code previous}, the snapshot of the same member,
     * network and audience built from the view at {@code view.changedFrom()}: only the services that changed since
     * are computed again. Falls back to {@link #build} when {@code previous} is of another view.
     *
     * @param previousRevision the revision of the view {@code previous} was built from
     */
    public static ConfigSnapshot rebuild(ConfigSnapshot previous, long previousRevision, CatalogView view,
            String member, String network, SnapshotAudience audience) {
        ConfigSnapshot content = rebuiltContent(previous, previousRevision, view, member, network, audience);
        return content.toBuilder().setVersion(io.meshfed.api.config.ConfigVersion.of(content)).build();
    }

    /** As {@link #rebuild}, without its version. */
    public static ConfigSnapshot rebuiltContent(ConfigSnapshot previous, long previousRevision, CatalogView view,
            String member, String network, SnapshotAudience audience) {
        if (view.changedFrom() < 0 || view.changedFrom() != previousRevision || !previous.getMember().equals(member)
                || !previous.getNetwork().equals(network)) {
            return content(view, member, network, audience);
        }
        List<ServiceResources> replaced = new ArrayList<>();
        List<io.meshfed.api.v1.ServiceRef> removed = new ArrayList<>();
        for (ServiceKey key : view.changedServices()) {
            List<Instance> instances = view.services().get(key);
            if (instances == null) {
                removed.add(io.meshfed.api.v1.ServiceRef.newBuilder().setName(key.name())
                        .setNamespace(key.namespace()).build());
            } else {
                replaced.add(resources(view, key, instances, member, network));
            }
        }
        return io.meshfed.api.config.ConfigDeltas.withServices(previous, replaced, removed).clearVersion().clearNonce()
                .clearSubscriber().clearDelta().build();
    }

    /**
     * Everything the snapshot holds for one service: the service with the endpoints the member may see (none: no
     * service), the outbound listeners for it, and its authorization policy where its instances run here.
     */
    private static ServiceResources resources(CatalogView view, ServiceKey key, List<Instance> instances,
            String member, String network) {
        ServiceResources.Builder r = ServiceResources.newBuilder().setName(key.name()).setNamespace(key.namespace());
        ExportRecord export = view.export(key);
        boolean exportedHere = export != null && export.exportedTo(member);
        boolean allowedHere = view.allowRuleNamesMember(key, member); // an admin's allow covers every instance
        List<Instance> visible = instances.stream().filter(i -> i.member().equals(member) || allowedHere
                || (exportedHere && export.covers(i.member()))).toList();
        Service service = service(view, key, visible, network, export);
        if (service.getNetworksCount() > 0) {
            r.setService(service);
            r.addAllOutbound(outbound(view, key, service, network));
        }
        AuthorizationPolicy authorization = authorization(view, key, instances, member, network, export);
        if (authorization != null) {
            r.setAuthorization(authorization);
        }
        return r.build();
    }

    /**
     * The trust domains whose gateways may forward a caller's identity: the Kubernetes members' (their gateways
     * attest pods; no other member has workloads a gateway could attest), sorted. Sent to every subscriber, since
     * every east-west gateway, a VM member's too, runs a tunnel listener that decides forwarded identities.
     */
    static List<String> forwardingTrustDomains(CatalogView view) {
        return view.members().values().stream().filter(m -> io.meshfed.controller.model.MemberType.of(m).gatewayAttestsSources())
                .map(MemberRecord::trustDomain).filter(td -> !td.isEmpty()).distinct().sorted().toList();
    }

    /**
     * The service's healthy endpoints for a subscriber in {@code ownNetwork}, networks in the order to try them: the
     * own network first, its endpoints nearest to the network's locality first (same zone, same region, the rest;
     * proxies that know their own locality tier them by it); then the service's failover networks in the admin's
     * order; then the other networks by locality (the own network's zone, its region, other regions), ties by name.
     */
    private static Service service(CatalogView view, ServiceKey key, List<Instance> visible, String ownNetwork,
            ExportRecord export) {
        Service.Builder service = Service.newBuilder().setName(key.name()).setNamespace(key.namespace());
        Map<String, List<Instance>> byNetwork = new TreeMap<>();
        for (Instance i : visible) {
            if (i.healthy() && i.reachable()) {
                byNetwork.computeIfAbsent(i.network(), n -> new ArrayList<>()).add(i);
            }
        }
        Locality here = view.locality(ownNetwork);
        List<Instance> local = byNetwork.remove(ownNetwork);
        if (local != null) {
            NetworkEndpoints.Builder n = NetworkEndpoints.newBuilder().setNetwork(ownNetwork).setLocal(true)
                    .setHealthyEndpoints(local.size());
            List<Instance> nearestFirst = local.stream().sorted(Comparator.comparing(
                    (Instance i) -> here.proximity(Locality.parse(i.locality())))).toList(); // stable
            for (Instance i : nearestFirst) {
                Endpoint.Builder endpoint = Endpoint.newBuilder().setAddress(i.address()).setPort(i.port())
                        .setMember(i.member()).setLocality(i.locality()).setWeight(i.weight());
                if (!i.inbound().isEmpty()) {
                    endpoint.setInbound(i.inbound()).setIdentity(i.agent());
                }
                n.addEndpoints(endpoint);
            }
            service.addNetworks(n);
        }
        List<String> failover = export == null ? List.of() : export.failoverNetworks();
        List<Map.Entry<String, List<Instance>>> remotes = byNetwork.entrySet().stream().sorted(Comparator
                .comparingInt((Map.Entry<String, List<Instance>> e) -> failover.contains(e.getKey())
                        ? failover.indexOf(e.getKey()) : failover.size())
                .thenComparing(e -> here.proximity(view.locality(e.getKey())))
                .thenComparing(Map.Entry::getKey)).toList();
        for (Map.Entry<String, List<Instance>> remote : remotes) {
            String gateway = view.gatewayAddress(remote.getKey());
            if (gateway.isEmpty()) {
                continue; // no way in: routing there would fail
            }
            // Only the network's gateways may answer there (none joined yet: the dialer accepts nobody).
            List<String> identities = view.gatewayIdentities(remote.getKey());
            String tunnel = view.tunnelAddress(remote.getKey());
            NetworkEndpoints.Builder n = NetworkEndpoints.newBuilder().setNetwork(remote.getKey()).setLocal(false)
                    .setHealthyEndpoints(remote.getValue().size());
            for (int port : new TreeSet<>(remote.getValue().stream().map(Instance::port).toList())) {
                n.addRoutes(GatewayRoute.newBuilder().setPort(port).setGatewayAddress(gateway)
                        .setSni(new ServiceSni(port, key.name(), key.namespace()).toString())
                        .addAllIdentities(identities).setTunnelAddress(tunnel));
            }
            service.addNetworks(n);
        }
        return service.build();
    }

    /** The listen ports the subscriber's network holds for the service's ports that only other networks serve. */
    private static List<OutboundListener> outbound(CatalogView view, ServiceKey key, Service service,
            String network) {
        List<OutboundListener> out = new ArrayList<>();
        TreeSet<Integer> remotePorts = new TreeSet<>();
        service.getNetworksList().stream().filter(n -> !n.getLocal())
                .forEach(n -> n.getRoutesList().forEach(r -> remotePorts.add(r.getPort())));
        for (int port : remotePorts) {
            PortAllocationRecord allocation = view.port(network, key, port);
            if (allocation != null) {
                out.add(OutboundListener.newBuilder().setService(key.name()).setNamespace(key.namespace())
                        .setServicePort(port).setListenPort(allocation.listenPort()).build());
            }
        }
        return out;
    }

    /**
     * For services with instances in this network: the trust domains allowed in, which are those of the members the
     * service is exported to (by a policy that covers an instance in this network: a cluster's ServiceExport covers
     * only its own), and the subscriber's own member's when that member serves it (a member's own
     * workloads and gateway reach its own services). Another member's instance grants nothing: who may call a
     * service is an admin's decision (an export), never what some member reports.
     */
    private static AuthorizationPolicy authorization(CatalogView view, ServiceKey key, List<Instance> all,
            String subscriberMember, String network, ExportRecord export) {
        if (all.stream().noneMatch(i -> i.network().equals(network))) {
            return null;
        }
        TreeSet<String> allowed = new TreeSet<>();
        for (MemberRecord m : view.members().values()) {
            boolean ownService = m.name().equals(subscriberMember)
                    && all.stream().anyMatch(i -> i.member().equals(m.name()));
            boolean exported = export != null && export.exportedTo(m.name())
                    && all.stream().anyMatch(i -> i.network().equals(network) && export.covers(i.member()));
            if (ownService || exported) {
                allowed.add(m.trustDomain());
            }
        }
        // Federated outside trust domains the admin exported the service to (never through --all).
        // A name that became a member's trust domain since counts for nothing here (member add refuses that too).
        if (export != null && !export.toTrustDomains().isEmpty()
                && all.stream().anyMatch(i -> i.network().equals(network) && export.covers(i.member()))) {
            java.util.Set<String> memberDomains = view.members().values().stream().map(MemberRecord::trustDomain)
                    .collect(java.util.stream.Collectors.toSet());
            export.toTrustDomains().stream().filter(td -> !memberDomains.contains(td)).forEach(allowed::add);
        }
        // The admin's caller policies ride along: the proxies apply deny rules first and add allow rules to the
        // trust domains above (see AuthorizationPolicy.rules).
        return AuthorizationPolicy.newBuilder().setService(key.name()).setNamespace(key.namespace())
                .addAllAllowedTrustDomains(allowed).addAllRules(view.callerRules(key)).build();
    }
}
