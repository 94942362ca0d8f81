package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.PortShortfallRecord;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.StoreTransaction;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * How a member's report becomes its part of the catalog, the same for every member kind (a VM agent's report, a
 * Kubernetes cluster's ServiceExports, a Consul datacenter's tagged services): the workload set is written only
 * when it changed; the services the member itself offers (a ServiceExport, a Consul tag) get an export to every
 * member that covers only this member's instances, unless a policy for them exists (an admin's decision is never
 * widened or replaced by a report); and whenever anything changed, listen ports are reconciled in the networks that
 * import it. Runs inside the caller's transaction, so the caller's own checks (the member still registered, its
 * generation) guard the same write.
 */
public final class MemberExports {
    private final PortAllocations ports;

    public MemberExports(PortAllocations ports) {
        this.ports = requireNonNull(ports, "ports");
    }

    /** A service a member offers by itself, with the ports it serves. */
    public record Offer(String name, String namespace, List<Integer> ports) {
        public Offer {
            ports = ports == null ? List.of() : List.copyOf(new TreeSet<>(ports));
        }
    }

    /**
     * What a write did: whether anything in the store changed; the member's own network's port shortfall (what it
     * imports without a listen port), when there is one; and, per offered service ({@code namespace/name}), a port
     * conflict with the same service exported by other members.
     */
    public record Outcome(boolean changed, Optional<PortShortfallRecord> shortfall, Map<String, String> conflicts) {
        public Outcome {
            conflicts = Map.copyOf(conflicts);
        }
    }

    /**
     * Writes {@code next} (the member's whole workload set, keyed by {@code next.agent()}) and the exports of
     * {@code offers}, in {@code tx}.
     */
    public Outcome write(StoreTransaction tx, WorkloadSetRecord next, Collection<Offer> offers) {
        Map<String, String> conflicts = conflicts(tx, next.agent(), offers);
        boolean changed = false;
        Set<String> policies = new HashSet<>();
        if (!offers.isEmpty()) { // an agent's report offers nothing: no need to read every policy
            Records.list(tx, Kind.EXPORT, ExportRecord.class).forEach(x -> policies.add(
                    ExportRecord.key(x.service(), x.namespace())));
        }
        for (Offer o : offers) {
            String exportKey = ExportRecord.key(o.name(), o.namespace());
            if (!policies.contains(exportKey)) {
                Records.put(tx, Kind.EXPORT, exportKey, new ExportRecord(o.name(), o.namespace(), true, List.of(),
                        next.member()), StoreTransaction.ABSENT);
                policies.add(exportKey);
                changed = true;
            }
        }
        if (!Records.get(tx, Kind.WORKLOADS, next.agent(), WorkloadSetRecord.class).filter(next::equals)
                .isPresent()) {
            Records.put(tx, Kind.WORKLOADS, next.agent(), next, StoreTransaction.ANY);
            changed = true;
        }
        Optional<PortShortfallRecord> shortfall = Optional.empty();
        if (changed) {
            shortfall = Optional.ofNullable(ports.reconcile(tx).shortfalls().get(next.network()));
        }
        return new Outcome(changed, shortfall, conflicts);
    }

    /** Offered services whose ports differ from the ports other members' workloads serve the same service on. */
    private static Map<String, String> conflicts(StoreTransaction tx, String self, Collection<Offer> offers) {
        if (offers.isEmpty()) {
            return Map.of();
        }
        Map<String, TreeSet<Integer>> otherPorts = new HashMap<>(); // grouped once, not per offer
        for (WorkloadSetRecord set : Records.list(tx, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            if (!set.agent().equals(self)) {
                for (WorkloadSetRecord.Workload w : set.workloads()) {
                    otherPorts.computeIfAbsent(w.namespace() + "/" + w.service(), k -> new TreeSet<>()).add(w.port());
                }
            }
        }
        Map<String, String> conflicts = new HashMap<>();
        for (Offer o : offers) {
            String service = o.namespace() + "/" + o.name();
            List<Integer> elsewhere = List.copyOf(otherPorts.getOrDefault(service, new TreeSet<>()));
            if (!elsewhere.isEmpty() && !o.ports().isEmpty() && !elsewhere.equals(o.ports())) {
                conflicts.put(service, "ports " + o.ports() + " differ from " + elsewhere
                        + " exported elsewhere; the federation carries every port");
            }
        }
        return conflicts;
    }
}
