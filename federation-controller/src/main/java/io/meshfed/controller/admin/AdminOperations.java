package io.meshfed.controller.admin;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CatalogEndpoint;
import io.meshfed.api.v1.CatalogNetwork;
import io.meshfed.api.v1.CatalogService;
import io.meshfed.api.v1.ControllerStatus;
import io.meshfed.api.v1.CreateJoinTokenRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.api.v1.JoinToken;
import io.meshfed.api.v1.Member;
import io.meshfed.api.v1.MemberList;
import io.meshfed.api.v1.Network;
import io.meshfed.api.v1.NetworkList;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.ServiceCatalog;
import io.meshfed.controller.catalog.CatalogView;
import io.meshfed.controller.errors.AlreadyExistsException;
import io.meshfed.controller.errors.FailedPreconditionException;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.join.JoinTokens;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MetaRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ServiceScope;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.stream.ConfigStreamService;
import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.TrustDomain;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin operations behind both the gRPC AdminService and the JSON API. Each validates its input and fails with
 * a domain exception ({@code io.meshfed.controller.errors}) whose message names what was wrong and what to do.
 */
public final class AdminOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    private final Store store;
    private final FederationIdentity identity;
    private final TrustState trust;
    private final JoinTokens tokens;
    private final ConfigStreamService streams;
    private final Clock clock;
    private final Instant startedAt;

    public AdminOperations(Store store, FederationIdentity identity, ConfigStreamService streams,
            io.meshfed.controller.kubernetes.ClusterConnectors connectors, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.identity = requireNonNull(identity, "identity");
        this.trust = new TrustState(identity);
        this.tokens = new JoinTokens(store, clock);
        this.streams = requireNonNull(streams, "streams");
        this.clock = requireNonNull(clock, "clock");
        this.startedAt = clock.instant();
        this.routes = new io.meshfed.controller.routes.RouteOperations(store);
        this.identities = new io.meshfed.controller.identity.IdentityOperations(store, clock);
        this.connectors = requireNonNull(connectors, "connectors");
        this.clusters = new io.meshfed.controller.kubernetes.ClusterOperations(store, identity, this, connectors);
    }

    private final io.meshfed.controller.kubernetes.ClusterConnectors connectors;
    private final io.meshfed.controller.kubernetes.ClusterOperations clusters;

    public io.meshfed.api.v1.ClusterState registerCluster(io.meshfed.api.v1.RegisterClusterRequest request) {
        return clusters.register(request);
    }

    public io.meshfed.api.v1.ClusterState unregisterCluster(io.meshfed.api.v1.UnregisterClusterRequest request) {
        return clusters.unregister(request);
    }

    public io.meshfed.api.v1.ClusterList listClusters() {
        return clusters.list();
    }

    private final io.meshfed.controller.routes.RouteOperations routes;
    private final io.meshfed.controller.identity.IdentityOperations identities;

    public io.meshfed.api.v1.IdentityList listIdentities(io.meshfed.api.v1.ListIdentitiesRequest request) {
        return identities.list(request);
    }

    public io.meshfed.api.v1.IdentityInfo revokeIdentity(io.meshfed.api.v1.RevokeIdentityRequest request) {
        return identities.revoke(request);
    }

    public io.meshfed.api.v1.RouteSet applyRoutes(io.meshfed.api.v1.RouteSet request) {
        return routes.apply(request);
    }

    public io.meshfed.api.v1.RouteSet listRoutes() {
        return routes.list();
    }

    public io.meshfed.api.v1.RouteSet deleteRoute(io.meshfed.api.v1.DeleteRouteRequest request) {
        return routes.delete(request);
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }

    private static void checkName(String what, String name) {
        if (!DnsLabel.matches(name)) {
            throw invalid(what + " name '" + name + "' " + DnsLabel.RULE);
        }
    }

    private static void checkAddress(String address) {
        if (address.isEmpty()) {
            return;
        }
        int port;
        try {
            port = io.meshfed.api.HostPort.parse(address).getPort();
        } catch (IllegalArgumentException e) {
            throw invalid("gateway address '" + address + "' must be HOST:PORT");
        }
        if (port == 0) {
            throw invalid("gateway address '" + address + "': port must be 1-65535");
        }
    }

    public Network createNetwork(CreateNetworkRequest request) {
        checkName("network", request.getName());
        checkAddress(request.getGatewayAddress());
        List<String> gatewayMembers = gatewayMembers(request);
        NetworkRecord record = store.transact(tx -> {
            var existing = Records.get(tx, Kind.NETWORK, request.getName(), NetworkRecord.class);
            checkGatewayMembers(tx, request.getName(), gatewayMembers, existing.isPresent());
            String address = request.getGatewayAddress().isEmpty()
                    ? existing.map(NetworkRecord::gatewayAddress).orElse("") : request.getGatewayAddress();
            List<String> members = gatewayMembers.isEmpty()
                    ? existing.map(NetworkRecord::gatewayMembers).orElse(List.of()) : gatewayMembers;
            NetworkRecord n = new NetworkRecord(request.getName(), address, members);
            if (existing.isPresent() && existing.get().equals(n)) {
                return n; // same request again: nothing to do
            }
            Records.put(tx, Kind.NETWORK, n.name(), n, StoreTransaction.ANY);
            return n;
        });
        AUDIT.info("network {} gateway={} gatewayMembers={}", record.name(), record.gatewayAddress(),
                record.gatewayMembers());
        return network(record);
    }

    /** The request's gateway members, in order, without repeats. */
    private static List<String> gatewayMembers(CreateNetworkRequest request) {
        if (request.getGatewayMembersCount() > 16) {
            throw invalid("a network may name at most 16 gateway members, not " + request.getGatewayMembersCount());
        }
        for (String m : request.getGatewayMembersList()) {
            checkName("gateway member", m);
        }
        return request.getGatewayMembersList().stream().distinct().toList();
    }

    /** Each gateway member must be a member of {@code network} already. */
    private static void checkGatewayMembers(StoreTransaction tx, String network, List<String> gatewayMembers,
            boolean networkExists) {
        for (String name : gatewayMembers) {
            MemberRecord m = Records.get(tx, Kind.MEMBER, name, MemberRecord.class).orElseThrow(() ->
                    new FailedPreconditionException("gateway member '" + name + "' does not exist; add"
                            + " it first with: meshfed member add " + name + " --type vm --network " + network
                            + (networkExists ? "" : " (after creating the network without --gateway-member)")));
            if (!m.network().equals(network)) {
                throw new FailedPreconditionException("gateway member '" + name + "' is in network "
                        + m.network() + ", not " + network + "; a network's gateways come from its own members");
            }
        }
    }

    private static Network network(NetworkRecord n) {
        return Network.newBuilder().setName(n.name()).setGatewayAddress(n.gatewayAddress())
                .addAllGatewayMembers(n.gatewayMembers()).build();
    }

    public NetworkList listNetworks() {
        return NetworkList.newBuilder().addAllNetworks(Records.list(store, Kind.NETWORK, NetworkRecord.class).stream()
                .map(AdminOperations::network).toList()).build();
    }

    public Member addMember(AddMemberRequest request) {
        String type = request.getType().isEmpty() ? "vm" : request.getType();
        if (type.equals("kubernetes")) {
            throw invalid("kubernetes members are added by 'meshfed cluster join " + request.getName()
                    + " --kubeconfig FILE --network NET', which also hands over the connector's credentials");
        }
        if (!type.equals("vm")) {
            throw invalid("member type '" + type + "' is not supported yet; use vm (consul members come with their"
                    + " connector)");
        }
        return createMember(request, type);
    }

    /** A kubernetes member, for {@code meshfed cluster join} (see ClusterOperations). */
    public Member addClusterMember(AddMemberRequest request) {
        return createMember(request, "kubernetes");
    }

    private Member createMember(AddMemberRequest request, String type) {
        checkName("member", request.getName());
        TrustDomain td;
        try {
            td = request.getTrustDomain().isEmpty()
                    ? TrustDomain.parse(request.getName() + "." + identity.federationTrustDomain().name())
                    : TrustDomain.parse(request.getTrustDomain());
        } catch (InvalidSpiffeIdException e) {
            throw invalid("trust domain: " + e.getMessage());
        }
        if (td.equals(identity.federationTrustDomain())) {
            throw invalid("trust domain " + td + " is the federation's own; a member needs its own trust domain");
        }
        List<String> cidrs = cidrs(request);
        if (Records.get(store, Kind.NETWORK, request.getNetwork(), NetworkRecord.class).isEmpty()) {
            throw new FailedPreconditionException("network '" + request.getNetwork() + "' does not exist;"
                    + " create it with: meshfed network create " + request.getNetwork());
        }
        try {
            identity.ca(td); // the member's CA exists before anyone can join it
        } catch (io.meshfed.trust.ca.CaException e) { // the operator's CA files for it do not load: theirs to fix
            throw new FailedPreconditionException(e.getMessage(), e);
        }
        MemberRecord record = store.transact(tx -> {
            var existing = Records.get(tx, Kind.MEMBER, request.getName(), MemberRecord.class);
            if (existing.isPresent()) {
                MemberRecord e = existing.get();
                if (e.network().equals(request.getNetwork()) && e.trustDomain().equals(td.name())
                        && e.type().equals(type)) {
                    if (cidrs.isEmpty() || cidrs.equals(e.cidrs())) {
                        return e; // same request again: nothing to do
                    }
                    MemberRecord changed = new MemberRecord(e.name(), e.type(), e.network(), e.trustDomain(),
                            e.identities(), cidrs); // new CIDRs replace the old ones
                    Records.put(tx, Kind.MEMBER, e.name(), changed, StoreTransaction.ANY);
                    return changed;
                }
                throw new AlreadyExistsException("member '" + e.name() + "' exists already with "
                        + differences(e, type, request.getNetwork(), td.name()) + "; a member's type, network and"
                        + " trust domain do not change: add it under another name");
            }
            for (MemberRecord other : Records.list(tx, Kind.MEMBER, MemberRecord.class)) {
                if (other.trustDomain().equals(td.name())) {
                    throw new AlreadyExistsException("trust domain " + td + " belongs to member '"
                            + other.name() + "' already");
                }
            }
            MemberRecord m = new MemberRecord(request.getName(), type, request.getNetwork(), td.name(), List.of(),
                    cidrs);
            Records.put(tx, Kind.MEMBER, m.name(), m, StoreTransaction.ABSENT);
            // The first member of a network (that names none) is its gateway member until the admin names others.
            Records.get(tx, Kind.NETWORK, m.network(), NetworkRecord.class)
                    .filter(n -> n.gatewayMembers().isEmpty())
                    .ifPresent(n -> Records.put(tx, Kind.NETWORK, n.name(), n.withGatewayMembers(List.of(m.name())),
                            StoreTransaction.ANY));
            long version = Records.get(tx, Kind.META, MetaRecord.BUNDLE_SET_VERSION, MetaRecord.class)
                    .map(MetaRecord::value).orElse(1L);
            Records.put(tx, Kind.META, MetaRecord.BUNDLE_SET_VERSION, new MetaRecord(version + 1), StoreTransaction.ANY);
            return m;
        });
        AUDIT.info("member {} type={} network={} trustDomain={} cidrs={}", record.name(), record.type(),
                record.network(), record.trustDomain(), record.cidrs());
        return member(record);
    }

    /** What differs between a stored member and a request for it: "network east, not west", in field order. */
    private static String differences(MemberRecord stored, String type, String network, String trustDomain) {
        List<String> differ = new ArrayList<>();
        if (!stored.type().equals(type)) {
            differ.add("type " + stored.type() + ", not " + type);
        }
        if (!stored.network().equals(network)) {
            differ.add("network " + stored.network() + ", not " + network);
        }
        if (!stored.trustDomain().equals(trustDomain)) {
            differ.add("trust domain " + stored.trustDomain() + ", not " + trustDomain);
        }
        return String.join(" and ", differ);
    }

    /** The request's CIDRs, checked, in order, without repeats. */
    private static List<String> cidrs(AddMemberRequest request) {
        if (request.getCidrsCount() > io.meshfed.controller.catalog.MemberAddresses.MAX_CIDRS) {
            throw invalid("a member may have at most " + io.meshfed.controller.catalog.MemberAddresses.MAX_CIDRS
                    + " CIDRs, not " + request.getCidrsCount());
        }
        for (String cidr : request.getCidrsList()) {
            try {
                io.meshfed.controller.catalog.MemberAddresses.checkCidr(cidr);
            } catch (IllegalArgumentException e) {
                throw invalid("member '" + request.getName() + "': " + e.getMessage());
            }
        }
        return request.getCidrsList().stream().distinct().toList();
    }

    private static Member member(MemberRecord m) {
        return Member.newBuilder().setName(m.name()).setType(m.type()).setNetwork(m.network())
                .setTrustDomain(m.trustDomain()).addAllIdentities(m.identities()).addAllCidrs(m.cidrs()).build();
    }

    /** Members with their live identities: a revoked one stays in the member's record but is not shown. */
    public MemberList listMembers() {
        java.util.Set<String> revoked = new java.util.HashSet<>();
        Records.list(store, Kind.IDENTITY, io.meshfed.controller.model.IdentityRecord.class).stream()
                .filter(io.meshfed.controller.model.IdentityRecord::revoked)
                .forEach(r -> revoked.add(r.spiffeId()));
        return MemberList.newBuilder().addAllMembers(Records.list(store, Kind.MEMBER, MemberRecord.class).stream()
                .map(m -> member(m).toBuilder().clearIdentities().addAllIdentities(m.identities().stream()
                        .filter(id -> !revoked.contains(id)).toList()).build()).toList()).build();
    }

    public JoinToken createJoinToken(CreateJoinTokenRequest request) {
        if (Records.get(store, Kind.MEMBER, request.getMember(), MemberRecord.class).isEmpty()) {
            throw new NotFoundException("member '" + request.getMember() + "' does not exist; add it with:"
                    + " meshfed member add " + request.getMember() + " --type vm --network NET");
        }
        if (request.getRole() == Role.ROLE_UNSPECIFIED || request.getRole() == Role.UNRECOGNIZED) {
            throw invalid("a join token needs a role: gateway, agent or edge");
        }
        Duration ttl = request.getTtlSeconds() <= 0 ? JoinTokens.DEFAULT_TTL : Duration.ofSeconds(request.getTtlSeconds());
        JoinTokens.Created created;
        try {
            created = tokens.create(request.getMember(), request.getRole(), scope(request), ttl,
                    io.meshfed.trust.SvidCertificates.pin(identity.ca(identity.federationTrustDomain()).rootCertificates().get(0)));
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        ServiceScope scope = created.record().scope();
        AUDIT.info("join token {} created for member={} role={} scope={} expires={}", created.record().id(),
                request.getMember(), request.getRole(), scope == null ? "-" : scope,
                Instant.ofEpochMilli(created.record().expiresAtMillis()));
        JoinToken.Builder token = JoinToken.newBuilder().setToken(created.token()).setId(created.record().id())
                .setMember(request.getMember()).setRole(request.getRole())
                .setExpiresAt(timestamp(Instant.ofEpochMilli(created.record().expiresAtMillis())));
        if (scope != null) {
            token.setNamespace(scope.namespace()).addAllServices(scope.services());
        }
        return token.build();
    }

    /**
     * The scope an agent token grants: the named services (all in one namespace, the agent's), or any service of
     * one namespace. Null for other roles, which may not name one.
     */
    static ServiceScope scope(CreateJoinTokenRequest request) {
        if (request.getRole() != Role.ROLE_AGENT) {
            if (request.getServicesCount() > 0 || !request.getNamespace().isEmpty()) {
                throw invalid("only agent tokens carry --service or --namespace; a " + io.meshfed.controller.server
                        .Protos.roleLabel(request.getRole().name()) + " registers no workloads");
            }
            return null;
        }
        if (request.getServicesCount() == 0 && request.getNamespace().isEmpty()) {
            throw invalid("an agent token needs a scope: --service NAME.NAMESPACE (repeatable) for the services its"
                    + " agent may register, or --namespace NS for any service of one namespace");
        }
        if (request.getServicesCount() > 64) {
            throw invalid("an agent token may name at most 64 services, not " + request.getServicesCount());
        }
        String namespace = request.getNamespace();
        if (!namespace.isEmpty()) {
            checkName("namespace", namespace);
        }
        TreeSet<String> services = new TreeSet<>();
        for (String s : request.getServicesList()) {
            int dot = s.indexOf('.');
            if (dot < 0 || !DnsLabel.matches(s.substring(0, dot)) || !DnsLabel.matches(s.substring(dot + 1))) {
                throw invalid("service '" + s + "' must be NAME.NAMESPACE, both DNS labels (" + DnsLabel.DESCRIPTION
                        + ")");
            }
            String ns = s.substring(dot + 1);
            if (namespace.isEmpty()) {
                namespace = ns;
            } else if (!namespace.equals(ns)) {
                throw invalid("service '" + s + "' is not in namespace " + namespace + "; an agent has one namespace"
                        + " (the /ns/ part of its SPIFFE ID), so its services must share it");
            }
            services.add(s);
        }
        return new ServiceScope(namespace, List.copyOf(services));
    }

    public ExportState export(ExportRequest request) {
        return changeExport(request, true);
    }

    public ExportState unexport(ExportRequest request) {
        return changeExport(request, false);
    }

    private ExportState changeExport(ExportRequest request, boolean add) {
        checkName("service", request.getService());
        String namespace = request.getNamespace().isEmpty() ? "default" : request.getNamespace();
        checkName("namespace", namespace);
        if (!request.getToAll() && request.getToMembersCount() == 0) {
            throw invalid("say whom to " + (add ? "export to" : "withdraw from") + ": --to MEMBER or --all");
        }
        ExportRecord result = store.transact(tx -> {
            for (String m : request.getToMembersList()) {
                if (Records.get(tx, Kind.MEMBER, m, MemberRecord.class).isEmpty()) {
                    throw new NotFoundException("member '" + m + "' does not exist");
                }
            }
            String key = ExportRecord.key(request.getService(), namespace);
            ExportRecord current = Records.get(tx, Kind.EXPORT, key, ExportRecord.class)
                    .orElse(new ExportRecord(request.getService(), namespace, false, List.of()));
            TreeSet<String> members = new TreeSet<>(current.toMembers());
            boolean toAll = current.toAll();
            if (add) {
                members.addAll(request.getToMembersList());
                toAll |= request.getToAll();
            } else {
                members.removeAll(request.getToMembersList());
                toAll &= !request.getToAll();
            }
            // The admin's decision covers every member's instances from now on.
            ExportRecord next = new ExportRecord(request.getService(), namespace, toAll, List.copyOf(members));
            if (next.isEmpty() && current.offeredBy() == null) {
                tx.delete(Kind.EXPORT.storeName(), key, StoreTransaction.ANY);
            } else {
                // Kept when empty over a cluster's offer: "exported to nobody" is then the admin's decision, and a
                // ServiceExport does not bring the offer back.
                Records.put(tx, Kind.EXPORT, key, next, StoreTransaction.ANY);
            }
            return next;
        });
        AUDIT.info("{} {}.{} to all={} members={}", add ? "export" : "unexport", request.getService(), namespace,
                request.getToAll(), request.getToMembersList());
        return exportState(result);
    }

    private static ExportState exportState(ExportRecord e) {
        return ExportState.newBuilder().setService(e.service()).setNamespace(e.namespace()).setToAll(e.toAll())
                .addAllToMembers(e.toMembers()).setOfferedBy(e.offeredBy() == null ? "" : e.offeredBy()).build();
    }

    public ServiceCatalog listServices() {
        CatalogView view = CatalogView.load(store, trust);
        ServiceCatalog.Builder catalog = ServiceCatalog.newBuilder();
        for (Map.Entry<CatalogView.ServiceKey, List<CatalogView.Instance>> e : view.services().entrySet()) {
            CatalogService.Builder s = CatalogService.newBuilder().setName(e.getKey().name())
                    .setNamespace(e.getKey().namespace());
            s.addAllMembers(new TreeSet<>(e.getValue().stream().map(CatalogView.Instance::member).toList()));
            ExportRecord export = view.export(e.getKey());
            s.setExport(export == null ? ExportState.newBuilder().setService(e.getKey().name())
                    .setNamespace(e.getKey().namespace()).build() : exportState(export));
            Map<String, List<CatalogView.Instance>> byNetwork = new TreeMap<>();
            e.getValue().forEach(i -> byNetwork.computeIfAbsent(i.network(), n -> new ArrayList<>()).add(i));
            byNetwork.forEach((network, instances) -> s.addNetworks(CatalogNetwork.newBuilder().setNetwork(network)
                    .addAllEndpoints(instances.stream().map(i -> CatalogEndpoint.newBuilder().setAddress(i.address())
                            .setPort(i.port()).setMember(i.member()).setHealthy(i.healthy()).build()).toList())));
            new TreeSet<>(e.getValue().stream().map(CatalogView.Instance::port).toList()).forEach(port -> {
                var allocation = view.port(e.getKey(), port);
                if (allocation != null) {
                    s.addOutboundPorts(io.meshfed.api.v1.OutboundPort.newBuilder().setServicePort(port)
                            .setListenPort(allocation.listenPort()));
                }
            });
            catalog.addServices(s);
        }
        return catalog.build();
    }

    public ControllerStatus status() {
        return ControllerStatus.newBuilder()
                .setTrustDomain(identity.federationTrustDomain().name())
                .setStoreRevision(store.revision())
                .setStartedAt(timestamp(startedAt))
                .addAllSubscribers(streams.status())
                .addAllClusters(connectors.status())
                .build();
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
