package io.meshfed.controller.catalog;

import io.meshfed.api.Locality;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.CallerPolicyRecord;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.GatewayRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.PodIdentitiesRecord;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.PortShortfallRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.trust.BundleSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Everything the catalog is computed from, read consistently at one store revision. Immutable. */
public final class CatalogView {
    /** One instance of a service, with where it runs. */
    public record Instance(String service, String namespace, String member, String network, String address, int port,
            boolean healthy, String locality, String inbound, String agent, int weight) {
        /**
         * Whether peers may be sent to it: an agent's workload only through that agent's mTLS inbound (a record
         * without one, written before inbounds were required, is never dialled in plain text); a workload the
         * controller read from a member cluster itself is reached at its address.
         */
        public boolean reachable() {
            return !inbound.isEmpty() || ClusterRecord.isConnectorWorkloadSetKey(agent);
        }
    }

    /** A service (namespace sameness: the same name and namespace in every member is one service). */
    public record ServiceKey(String name, String namespace) implements Comparable<ServiceKey> {
        @Override
        public int compareTo(ServiceKey o) {
            int c = namespace.compareTo(o.namespace);
            return c != 0 ? c : name.compareTo(o.name);
        }

        @Override
        public String toString() {
            return name + "." + namespace;
        }
    }

    private final long revision;
    private final BundleSet bundles;
    private final Map<String, NetworkRecord> networks;
    private final Map<String, MemberRecord> members;
    /** Per network, its gateways (see {@link #gateways(String)}). */
    private final Map<String, List<GatewayRecord>> gateways;
    private final ServiceInstances services;
    private final Map<ServiceKey, ExportRecord> exports;
    /** Per network, its allocations by {@code network/port.name.namespace}. */
    private final Map<String, PortAllocationRecord> ports;
    private final Map<String, PortShortfallRecord> shortfalls;
    /** Per network, the locality of its instances (see {@link #locality(String)}). */
    private final Map<String, Locality> localities;
    private final List<io.meshfed.api.v1.Route> routes;
    private final List<String> revoked;
    /** Per Kubernetes member, the pods its gateways may attest (see {@link #attestablePods(String)}). */
    private final Map<String, List<PodIdentitiesRecord.Pod>> pods;
    private final Map<ServiceKey, List<io.meshfed.api.v1.CallerRule>> callerRules;
    /** Per service, the trust domains its admin's allow policies name (the members there may see it). */
    private final Map<ServiceKey, Set<String>> allowedTrustDomains;
    /** Per trust domain in a rotation's renewal phase, the root (DER) its SVIDs should chain to. */
    private final Map<String, com.google.protobuf.ByteString> renewTowardRoots;

    private CatalogView(long revision, BundleSet bundles, Map<String, NetworkRecord> networks,
            Map<String, MemberRecord> members, List<GatewayRecord> gateways, ServiceInstances services,
            Map<ServiceKey, ExportRecord> exports, Map<String, PortAllocationRecord> ports,
            Map<String, PortShortfallRecord> shortfalls, List<io.meshfed.api.v1.Route> routes, List<String> revoked,
            Map<String, List<PodIdentitiesRecord.Pod>> pods,
            List<CallerPolicyRecord> policies, Map<String, com.google.protobuf.ByteString> renewTowardRoots) {
        this.renewTowardRoots = renewTowardRoots;
        this.pods = pods;
        this.callerRules = callerRules(policies);
        this.allowedTrustDomains = new TreeMap<>();
        policies.forEach(p -> p.allowedTrustDomain().ifPresent(td -> allowedTrustDomains.computeIfAbsent(
                new ServiceKey(p.service(), p.namespace()), k -> new java.util.TreeSet<>()).add(td)));
        this.routes = routes;
        this.revoked = revoked;
        this.revision = revision;
        this.bundles = bundles;
        this.networks = networks;
        this.members = members;
        this.gateways = new TreeMap<>();
        networks.values().forEach(n -> this.gateways.put(n.name(), designatedGateways(n, gateways)));
        this.services = services;
        this.exports = exports;
        this.ports = ports;
        this.shortfalls = shortfalls;
        this.localities = localities(services.services());
        this.changedFrom = FULL_READ;
        this.changed = Set.of();
    }

    /** A view with other workloads and everything else of {@code origin}. */
    private CatalogView(CatalogView origin, long revision, ServiceInstances.Updated update) {
        this.revision = revision;
        this.bundles = origin.bundles;
        this.networks = origin.networks;
        this.members = origin.members;
        this.gateways = origin.gateways;
        this.services = update.instances();
        this.exports = origin.exports;
        this.ports = origin.ports;
        this.shortfalls = origin.shortfalls;
        this.localities = localities(services.services());
        this.routes = origin.routes;
        this.revoked = origin.revoked;
        this.pods = origin.pods;
        this.callerRules = origin.callerRules;
        this.allowedTrustDomains = origin.allowedTrustDomains;
        this.renewTowardRoots = origin.renewTowardRoots;
        boolean sameLocalities = localities.equals(origin.localities);
        this.changedFrom = sameLocalities ? origin.revision : FULL_READ;
        this.changed = sameLocalities ? update.changed() : Set.of();
    }

    /** The kinds whose changes alter no view (renewed every second, or never read here). */
    private static final Set<String> UNREAD_KINDS = Set.of(Kind.LEASE.storeName(), Kind.REPLICA.storeName(),
            Kind.CONNECTOR_STATUS.storeName(), Kind.JOIN_TOKEN.storeName());
    /** At most this many changes are applied to a view; more are read afresh. */
    static final int MAX_CHANGES = 1_000;
    private static final long FULL_READ = -1;

    /**
     * The revision of the view this one was made from by {@link #next} when only workloads changed in between and no
     * network's locality moved (then only the services in {@link #changedServices} differ from it); -1 for a view
     * read whole.
     */
    private final long changedFrom;
    private final Set<ServiceKey> changed;

    /**
     * Reads the store once, inside one (read-only) transaction, so the view is consistent.
     *
     * @see #next
     */
    public static CatalogView load(Store store, TrustState trust) {
        return store.transact(tx -> read(tx, trust));
    }

    static CatalogView read(StoreReader r, TrustState trust) {
        Map<String, NetworkRecord> networks = byName(Records.list(r, Kind.NETWORK, NetworkRecord.class),
                NetworkRecord::name);
        Map<String, MemberRecord> members = byName(Records.list(r, Kind.MEMBER, MemberRecord.class),
                MemberRecord::name);
        ServiceInstances services = ServiceInstances.of(r.list(Kind.WORKLOADS.storeName()));
        Map<ServiceKey, ExportRecord> exports = new TreeMap<>();
        for (ExportRecord e : Records.list(r, Kind.EXPORT, ExportRecord.class)) {
            exports.put(new ServiceKey(e.service(), e.namespace()), e);
        }
        Map<String, PortAllocationRecord> ports = byName(
                Records.list(r, Kind.PORT, PortAllocationRecord.class).stream().filter(p -> !p.global()).toList(),
                p -> PortAllocationRecord.key(p.network(), p.servicePortKey()));
        Map<String, PortShortfallRecord> shortfalls = new TreeMap<>(byName(
                Records.list(r, Kind.PORT_SHORTFALL, PortShortfallRecord.class), PortShortfallRecord::network));
        return new CatalogView(r.revision(), trust.bundleSet(r), networks, members,
                Records.list(r, Kind.GATEWAY, GatewayRecord.class), services, exports, ports, shortfalls,
                io.meshfed.controller.routes.RouteOperations.routes(r),
                Records.list(r, Kind.IDENTITY, io.meshfed.controller.model.IdentityRecord.class).stream()
                        .filter(io.meshfed.controller.model.IdentityRecord::revoked)
                        .map(io.meshfed.controller.model.IdentityRecord::spiffeId).sorted().toList(),
                pods(r, members), io.meshfed.controller.authz.CallerPolicyOperations.policies(r),
                trust.renewTowardRoots(r));
    }

    /**
     * The view of the store now: this one with the workload sets that changed since replaced, when only workload
     * sets (or kinds no view reads) changed, and at most {@link #MAX_CHANGES}; else the store read whole. Either way
     * it equals what {@link #load} gives at its revision.
     */
    public CatalogView next(Store store, TrustState trust) {
        List<io.meshfed.controller.store.Change> changes;
        try {
            changes = store.changesSince(revision, MAX_CHANGES + 1);
        } catch (io.meshfed.controller.store.CompactedException e) {
            return load(store, trust);
        }
        if (changes.size() > MAX_CHANGES) {
            return load(store, trust);
        }
        Map<String, WorkloadSetRecord> sets = new TreeMap<>();
        for (io.meshfed.controller.store.Change c : changes) {
            if (c.kind().equals(Kind.WORKLOADS.storeName())) {
                sets.put(c.name(), c.op() == io.meshfed.controller.store.Change.Op.DELETE ? null
                        : Records.fromJson(new io.meshfed.controller.store.Resource(c.kind(), c.name(), c.json(),
                                c.revision(), 0), WorkloadSetRecord.class));
            } else if (!UNREAD_KINDS.contains(c.kind())) {
                return load(store, trust);
            }
        }
        long to = changes.isEmpty() ? revision : changes.get(changes.size() - 1).revision();
        return new CatalogView(this, to, services.with(sets));
    }

    /**
     * The revision of the view this one was made from with only {@link #changedServices()} different, or -1 when it
     * was read whole (then anything may differ from any earlier view).
     */
    public long changedFrom() {
        return changedFrom;
    }

    /** The services whose instances differ from those of the view at {@link #changedFrom()}. */
    public Set<ServiceKey> changedServices() {
        return changed;
    }

    /** The stored pods of each Kubernetes member that exists, sorted by address. */
    private static Map<String, List<PodIdentitiesRecord.Pod>> pods(StoreReader r, Map<String, MemberRecord> members) {
        Map<String, List<PodIdentitiesRecord.Pod>> byMember = new TreeMap<>();
        for (PodIdentitiesRecord shard : Records.list(r, Kind.POD_IDENTITIES, PodIdentitiesRecord.class)) {
            MemberRecord m = members.get(shard.member());
            if (m != null && io.meshfed.controller.model.MemberType.of(m).gatewayAttestsSources()) {
                byMember.computeIfAbsent(m.name(), k -> new ArrayList<>()).addAll(shard.pods());
            }
        }
        byMember.replaceAll((k, v) -> v.stream().sorted(Comparator.comparing(PodIdentitiesRecord.Pod::address))
                .toList());
        return byMember;
    }

    /**
     * The pods of Kubernetes member {@code member} that its own east-west gateways may attest by source address,
     * sorted by address; empty for any other member (and while the member's connector has attestation off).
     */
    public List<PodIdentitiesRecord.Pod> attestablePods(String member) {
        return pods.getOrDefault(member, List.of());
    }

    /** Each service's caller policies as snapshots carry them, in the order of {@code CallerPolicyOperations}. */
    private static Map<ServiceKey, List<io.meshfed.api.v1.CallerRule>> callerRules(List<CallerPolicyRecord> policies) {
        Map<ServiceKey, List<io.meshfed.api.v1.CallerRule>> rules = new TreeMap<>();
        for (var p : policies) {
            rules.computeIfAbsent(new ServiceKey(p.service(), p.namespace()), k -> new ArrayList<>())
                    .add(io.meshfed.controller.authz.CallerPolicyOperations.rule(p));
        }
        rules.replaceAll((k, v) -> List.copyOf(v));
        return rules;
    }

    /**
     * Whether an admin's allow policy of the service names callers in {@code member}'s trust domain: the service is
     * then visible to that member (its routes and outbound listeners), as an admin's export would make it, so the
     * callers it allows can reach it; which of them may call is still the proxies' decision.
     */
    public boolean allowRuleNamesMember(ServiceKey key, String member) {
        MemberRecord m = members.get(member);
        if (m == null) {
            return false;
        }
        return allowedTrustDomains.getOrDefault(key, Set.of()).contains(m.trustDomain());
    }

    /** The admin's caller policies for a service (sorted by from, effect, id); empty when it has none. */
    public List<io.meshfed.api.v1.CallerRule> callerRules(ServiceKey key) {
        return callerRules.getOrDefault(key, List.of());
    }

    /** The revoked SPIFFE IDs, sorted: proxies refuse them as peers while their SVIDs may still be valid. */
    public List<String> revokedIdentities() {
        return revoked;
    }

    private static <T> Map<String, T> byName(List<T> list, Function<T, String> name) {
        return list.stream().collect(Collectors.toMap(name, t -> t, (a, b) -> a, LinkedHashMap::new));
    }

    public long revision() {
        return revision;
    }

    /** The edge gateways' routes, sorted by order then id. */
    public List<io.meshfed.api.v1.Route> routes() {
        return routes;
    }

    /**
     * The root (DER) that SVIDs of {@code trustDomain} should chain to while a root rotation makes subscribers
     * renew toward it; empty outside those phases.
     */
    public com.google.protobuf.ByteString renewTowardRoot(String trustDomain) {
        return renewTowardRoots.getOrDefault(trustDomain, com.google.protobuf.ByteString.EMPTY);
    }

    public BundleSet bundles() {
        return bundles;
    }

    public Map<String, NetworkRecord> networks() {
        return networks;
    }

    public Map<String, MemberRecord> members() {
        return members;
    }

    public Map<ServiceKey, List<Instance>> services() {
        return services.services();
    }

    public ExportRecord export(ServiceKey key) {
        return exports.get(key);
    }

    /** Every export policy, by service. */
    public java.util.Collection<ExportRecord> exports() {
        return exports.values();
    }

    /** The listen port {@code network} holds for the service port, or null when it holds none. */
    public PortAllocationRecord port(String network, ServiceKey key, int servicePort) {
        return ports.get(PortAllocationRecord.key(network,
                PortAllocationRecord.key(key.name(), key.namespace(), servicePort)));
    }

    /** Every network's listen port for the service port, by network name. */
    public Map<String, PortAllocationRecord> ports(ServiceKey key, int servicePort) {
        Map<String, PortAllocationRecord> out = new TreeMap<>();
        for (String network : networks.keySet()) {
            PortAllocationRecord p = port(network, key, servicePort);
            if (p != null) {
                out.put(network, p);
            }
        }
        return out;
    }

    /** The networks whose imported service ports did not all get a listen port, by network name. */
    public Map<String, PortShortfallRecord> portShortfalls() {
        return shortfalls;
    }

    /**
     * A network's locality: the most common region among all its instances (healthy or not, so that it does not move
     * when endpoints flap), and within it the most common zone; ties go to the name that sorts first. Unknown for a
     * network without instances that report one.
     */
    public Locality locality(String network) {
        return localities.getOrDefault(network, Locality.UNKNOWN);
    }

    private static Map<String, Locality> localities(Map<ServiceKey, List<Instance>> services) {
        Map<String, Map<String, Map<String, Integer>>> counts = new TreeMap<>(); // network -> region -> zone -> n
        for (List<Instance> instances : services.values()) {
            for (Instance i : instances) {
                Locality l = Locality.parse(i.locality());
                if (l.known()) {
                    counts.computeIfAbsent(i.network(), n -> new TreeMap<>())
                            .computeIfAbsent(l.region(), x -> new TreeMap<>()).merge(l.zone(), 1, Integer::sum);
                }
            }
        }
        Map<String, Locality> out = new TreeMap<>();
        counts.forEach((network, regions) -> {
            String region = mostCommon(regions.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                    e -> e.getValue().values().stream().mapToInt(Integer::intValue).sum(), Integer::sum,
                    TreeMap::new)));
            Map<String, Integer> zones = new TreeMap<>(regions.get(region));
            zones.remove("");
            out.put(network, new Locality(region, zones.isEmpty() ? "" : mostCommon(zones)));
        });
        return out;
    }

    /** The key with the highest count; the first in order among equals (the maps are sorted). */
    private static String mostCommon(Map<String, Integer> counts) {
        String best = null;
        int most = -1;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    /** The members whose gateways are the network's (the admin's list, or the network's first member). */
    public List<String> gatewayMembers(String network) {
        NetworkRecord n = networks.get(network);
        return n == null ? List.of() : n.gatewayMembers();
    }

    /**
     * The network's east-west gateways: the joined gateways (role gateway) of its gateway members, in the order of
     * that list. Gateways of any other member, even one in the same network, are not the network's.
     */
    private List<GatewayRecord> gateways(String network) {
        return gateways.getOrDefault(network, List.of());
    }

    private static List<GatewayRecord> designatedGateways(NetworkRecord network, List<GatewayRecord> all) {
        List<String> designated = network.gatewayMembers();
        return all.stream()
                .filter(g -> g.network().equals(network.name()) && g.role().equals("ROLE_GATEWAY")
                        && designated.contains(g.member()))
                .sorted(Comparator.comparingInt((GatewayRecord g) -> designated.indexOf(g.member()))
                        .thenComparing(GatewayRecord::spiffeId))
                .toList();
    }

    /**
     * A network's east-west gateway: the address set on the network, else the first address of the first ready
     * gateway of its gateway members; empty when there is none.
     */
    public String gatewayAddress(String network) {
        NetworkRecord n = networks.get(network);
        if (n != null && !n.gatewayAddress().isEmpty()) {
            return n.gatewayAddress();
        }
        return servingGateway(network).map(g -> g.addresses().get(0)).orElse("");
    }

    /** The gateway whose reported addresses the network's routes use: the first ready one that reported any. */
    private java.util.Optional<GatewayRecord> servingGateway(String network) {
        return gateways(network).stream().filter(g -> g.ready() && !g.addresses().isEmpty()).findFirst();
    }

    /**
     * The tunnel listener that goes with {@link #gatewayAddress}: the admin's, when the admin set the network's
     * address; else the one reported by the gateway whose address that is. Empty when there is none, and then
     * senders use the SNI listener.
     */
    public String tunnelAddress(String network) {
        NetworkRecord n = networks.get(network);
        if (n != null && !n.gatewayAddress().isEmpty()) {
            return n.tunnelAddress();
        }
        return servingGateway(network).map(GatewayRecord::tunnelAddress).orElse("");
    }

    /**
     * The SPIFFE IDs that may answer at the network's gateway address, sorted: its gateway members' joined
     * gateways, also when the address is the one set on the network. Empty when none has joined.
     */
    public List<String> gatewayIdentities(String network) {
        return gateways(network).stream().map(GatewayRecord::spiffeId).sorted().distinct().toList();
    }
}
