package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.CallerPolicyRecord;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.PortShortfallRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.store.StoreTransaction;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The outbound listen ports of imported service ports, allocated per importing network from one configured
 * {@link PortRange}: network N holds a port for service port {@code port.name.namespace} exactly while N imports it,
 * that is while some member of N may see an instance of the service in another network (the service is exported to
 * that member by a policy covering the instance's member). Two networks may give the same port number to different
 * service ports. A network's port stays the same while its import lasts, across restarts, and is freed in the
 * transaction that ends the import.
 *
 * <p>{@link #reconcile} computes the allocations from the store's admin decisions (members, exports) and reports
 * (workload sets) and writes only the difference; it runs inside every transaction that changes one of them
 * (registration, a connector's sync, export and unexport, member creation, withdrawal, cluster removal) and once at
 * start, and is deterministic: the same store gives the same ports. A reported workload therefore allocates ports
 * only in networks that import its service. Within each network, one providing member's service ports hold at most
 * {@code quota} ports (those that hold one keep it; new ones in key order), so one member cannot take a network's range
 * from the others; agents' reports are refused beyond the quota ({@link #overQuota}). Service ports that get no port
 * (range exhausted, or beyond their member's quota) stay in the catalog without outbound listeners and are recorded per
 * network as a {@link PortShortfallRecord}, which {@code meshfed status} and the connectors' status show.
 */
public final class PortAllocations {
    /** Service ports one member may provide; each network's range holds at most this many of one member's. */
    public static final int DEFAULT_MEMBER_QUOTA = 1000;

    /** What one reconciliation left without a port, per network (only networks with a shortfall), and its writes. */
    public record Result(Map<String, PortShortfallRecord> shortfalls, int assigned, int freed) {
        public Result {
            shortfalls = Map.copyOf(shortfalls);
        }

        public boolean complete() {
            return shortfalls.isEmpty();
        }
    }

    private final PortRange range;
    private final int quota;

    /**
     * @param range where listen ports come from, in every network
     * @param quota service ports one member may provide (and hold in one network's range), at least 1
     */
    public PortAllocations(PortRange range, int quota) {
        this.range = requireNonNull(range, "range");
        if (quota < 1) {
            throw new IllegalArgumentException("quota must be at least 1, not " + quota);
        }
        this.quota = quota;
    }

    /** The default range with the default quota. */
    public static PortAllocations defaults() {
        return new PortAllocations(PortRange.DEFAULT, DEFAULT_MEMBER_QUOTA);
    }

    public PortRange range() {
        return range;
    }

    public int quota() {
        return quota;
    }

    /** The allocation key of a workload's service port. */
    public static String key(WorkloadSetRecord.Workload w) {
        return PortAllocationRecord.key(w.service(), w.namespace(), w.port());
    }

    /**
     * The service ports of {@code next} (about to replace the set stored under its key) beyond its member's quota:
     * the member's distinct service ports are counted over all its sets, those of its other sets first, then
     * {@code next}'s in order.
     */
    public List<String> overQuota(StoreReader tx, WorkloadSetRecord next) {
        Set<String> counted = new HashSet<>();
        for (WorkloadSetRecord set : Records.list(tx, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            if (set.member().equals(next.member()) && !set.agent().equals(next.agent())) {
                set.workloads().forEach(w -> counted.add(key(w)));
            }
        }
        Set<String> wanted = new LinkedHashSet<>();
        next.workloads().forEach(w -> wanted.add(key(w)));
        List<String> over = new ArrayList<>();
        for (String k : wanted) {
            if (!counted.contains(k)) {
                if (counted.size() < quota) {
                    counted.add(k);
                } else {
                    over.add(k);
                }
            }
        }
        return over;
    }

    /**
     * Brings the stored allocations in line with what the networks import: frees the ports of imports that ended
     * (or that lie outside the range), gives each new import the lowest free port of its network (a port the
     * service port held in a record of the former global range is kept when it lies in the range), converts and
     * deletes such global records, and records each network's shortfall. Writes nothing when nothing changed.
     */
    public Result reconcile(StoreTransaction tx) {
        Map<String, Map<String, Set<String>>> imports = imports(tx);
        Map<String, Map<String, Integer>> held = new TreeMap<>();
        Map<String, Integer> global = new HashMap<>();
        for (PortAllocationRecord p : Records.list(tx, Kind.PORT, PortAllocationRecord.class)) {
            if (p.global()) {
                global.put(p.servicePortKey(), p.listenPort());
            } else {
                held.computeIfAbsent(p.network(), n -> new TreeMap<>()).put(p.servicePortKey(), p.listenPort());
            }
        }
        Map<String, PortShortfallRecord> storedShortfalls = new HashMap<>();
        Records.list(tx, Kind.PORT_SHORTFALL, PortShortfallRecord.class)
                .forEach(s -> storedShortfalls.put(s.network(), s));
        Set<String> networks = new TreeSet<>(imports.keySet());
        networks.addAll(held.keySet());
        Map<String, PortShortfallRecord> shortfalls = new TreeMap<>();
        int assigned = 0;
        int freed = 0;
        for (String network : networks) {
            Map<String, Set<String>> wanted = imports.getOrDefault(network, Map.of());
            Map<String, Integer> current = held.getOrDefault(network, Map.of());
            BitSet used = new BitSet();
            Set<String> keep = new HashSet<>();
            for (Map.Entry<String, Integer> e : current.entrySet()) {
                if (wanted.containsKey(e.getKey()) && range.contains(e.getValue()) && !used.get(e.getValue())) {
                    keep.add(e.getKey());
                    used.set(e.getValue());
                } else {
                    tx.delete(Kind.PORT.storeName(), PortAllocationRecord.key(network, e.getKey()),
                            StoreTransaction.ANY);
                    freed++;
                }
            }
            // The quota per providing member: its ports held in this network count first.
            Map<String, Integer> counts = new HashMap<>();
            keep.forEach(k -> wanted.get(k).forEach(p -> counts.merge(p, 1, Integer::sum)));
            List<String> exhausted = new ArrayList<>();
            List<String> overQuota = new ArrayList<>();
            List<String> admitted = new ArrayList<>();
            for (Map.Entry<String, Set<String>> e : wanted.entrySet()) {
                if (keep.contains(e.getKey())) {
                    continue;
                }
                if (e.getValue().stream().noneMatch(p -> counts.getOrDefault(p, 0) < quota)) {
                    overQuota.add(e.getKey());
                    continue;
                }
                e.getValue().forEach(p -> counts.merge(p, 1, Integer::sum));
                admitted.add(e.getKey());
            }
            // Ports of the former global range first, so that an upgrade moves no listener it need not move.
            List<String> fresh = new ArrayList<>();
            for (String k : admitted) {
                Integer old = global.get(k);
                if (old != null && range.contains(old) && !used.get(old)) {
                    used.set(old);
                    put(tx, network, k, old);
                    assigned++;
                } else {
                    fresh.add(k);
                }
            }
            int next = range.first();
            for (String k : fresh) {
                next = used.nextClearBit(next);
                if (next > range.last()) {
                    exhausted.add(k);
                    continue;
                }
                used.set(next);
                put(tx, network, k, next);
                assigned++;
            }
            if (!exhausted.isEmpty() || !overQuota.isEmpty()) {
                TreeSet<String> named = new TreeSet<>(exhausted);
                named.addAll(overQuota);
                shortfalls.put(network, new PortShortfallRecord(network, exhausted.size(), overQuota.size(),
                        named.stream().limit(PortShortfallRecord.NAMED).toList()));
            }
        }
        for (String k : global.keySet()) {
            tx.delete(Kind.PORT.storeName(), k, StoreTransaction.ANY); // stored under its service port key
        }
        for (PortShortfallRecord s : storedShortfalls.values()) {
            if (!shortfalls.containsKey(s.network())) {
                tx.delete(Kind.PORT_SHORTFALL.storeName(), s.network(), StoreTransaction.ANY);
            }
        }
        shortfalls.forEach((network, s) -> {
            if (!s.equals(storedShortfalls.get(network))) {
                Records.put(tx, Kind.PORT_SHORTFALL, network, s, StoreTransaction.ANY);
            }
        });
        return new Result(shortfalls, assigned, freed);
    }

    private static void put(StoreTransaction tx, String network, String key, int listenPort) {
        String[] parts = key.split("\\.", 3);
        Records.put(tx, Kind.PORT, PortAllocationRecord.key(network, key), new PortAllocationRecord(network,
                parts[1], parts[2], Integer.parseInt(parts[0]), listenPort), StoreTransaction.ANY);
    }

    /**
     * What each network imports: network → service port key → the members providing it there, sorted. A network
     * imports a service port when one of its members may see an instance of it in another network: the service is
     * exported to that member by a policy covering the instance's member, or an admin's allow policy of the service
     * names callers in that member's trust domain (which makes the service visible to it, as in
     * {@code SnapshotBuilder}), and the instance can be dialled (an agent's behind its inbound, or read from a member
     * cluster). Health does not count, so ports do not move when endpoints flap.
     */
    static Map<String, Map<String, Set<String>>> imports(StoreReader tx) {
        Map<String, Set<String>> membersByNetwork = new TreeMap<>();
        for (MemberRecord m : Records.list(tx, Kind.MEMBER, MemberRecord.class)) {
            membersByNetwork.computeIfAbsent(m.network(), n -> new TreeSet<>()).add(m.name());
        }
        Map<String, Set<String>> allowedMembers = allowedMembers(tx);
        Map<String, ExportRecord> exports = new HashMap<>();
        Records.list(tx, Kind.EXPORT, ExportRecord.class).forEach(e -> exports.put(ExportRecord.key(e.service(),
                e.namespace()), e));
        // (provider member, its network, service port) once each, however many instances
        record Offer(String member, String network, String service, String namespace, String key) {}
        Set<Offer> offers = new HashSet<>();
        for (WorkloadSetRecord set : Records.list(tx, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            boolean fromCluster = ClusterRecord.isConnectorWorkloadSetKey(set.agent());
            for (WorkloadSetRecord.Workload w : set.workloads()) {
                if (w.inbound() != null || fromCluster) {
                    offers.add(new Offer(set.member(), set.network(), w.service(), w.namespace(), key(w)));
                }
            }
        }
        Map<String, Map<String, Set<String>>> imports = new TreeMap<>();
        for (Offer o : offers) {
            ExportRecord export = exports.get(ExportRecord.key(o.service(), o.namespace()));
            boolean exported = export != null && !export.isEmpty() && export.covers(o.member());
            Set<String> allowed = allowedMembers.getOrDefault(ExportRecord.key(o.service(), o.namespace()), Set.of());
            if (!exported && allowed.isEmpty()) {
                continue;
            }
            for (Map.Entry<String, Set<String>> n : membersByNetwork.entrySet()) {
                if (n.getKey().equals(o.network())) {
                    continue; // its own network reaches it directly
                }
                if ((exported && (export.toAll() || export.toMembers().stream().anyMatch(n.getValue()::contains)))
                        || allowed.stream().anyMatch(n.getValue()::contains)) {
                    imports.computeIfAbsent(n.getKey(), k -> new TreeMap<>())
                            .computeIfAbsent(o.key(), k -> new TreeSet<>()).add(o.member());
                }
            }
        }
        return imports;
    }

    /** Per service ({@code name.namespace}), the members whose trust domain an admin's allow policy names. */
    private static Map<String, Set<String>> allowedMembers(StoreReader tx) {
        Map<String, Set<String>> byTrustDomain = new HashMap<>();
        for (MemberRecord m : Records.list(tx, Kind.MEMBER, MemberRecord.class)) {
            byTrustDomain.computeIfAbsent(m.trustDomain(), td -> new TreeSet<>()).add(m.name());
        }
        Map<String, Set<String>> allowed = new HashMap<>();
        for (CallerPolicyRecord p : Records.list(tx, Kind.CALLER_POLICY, CallerPolicyRecord.class)) {
            p.allowedTrustDomain().ifPresent(td -> allowed.computeIfAbsent(p.serviceKey(), k -> new TreeSet<>())
                    .addAll(byTrustDomain.getOrDefault(td, Set.of())));
        }
        return allowed;
    }
}
