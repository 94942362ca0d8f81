package io.meshfed.controller.catalog;

import io.meshfed.controller.catalog.CatalogView.Instance;
import io.meshfed.controller.catalog.CatalogView.ServiceKey;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Resource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every service's instances, from the stored workload sets, and kept per set so that a changed set changes only the
 * services it held or holds ({@link #with}). Immutable: an update shares what it did not change with its origin.
 * Whichever way it was made, a service's instances are those of its sets in set-name order, each set's in its own
 * order, then sorted by network, address and port (a stable sort), so an updated value equals a fresh read.
 */
final class ServiceInstances {
    private static final Comparator<Instance> ORDER = Comparator.comparing(Instance::network)
            .thenComparing(Instance::address).thenComparingInt(Instance::port);

    /** Per workload set (by store name), its instances by service, each service's in the set's order. */
    private final Map<String, Map<ServiceKey, List<Instance>>> bySet;
    /** Per service, the names of the sets that hold an instance of it. */
    private final Map<ServiceKey, Set<String>> setsOf;
    /** Per service, its instances in the order above. */
    private final Map<ServiceKey, List<Instance>> services;

    private ServiceInstances(Map<String, Map<ServiceKey, List<Instance>>> bySet, Map<ServiceKey, Set<String>> setsOf,
            Map<ServiceKey, List<Instance>> services) {
        this.bySet = bySet;
        this.setsOf = setsOf;
        this.services = services;
    }

    /** The instances of the stored workload sets (resources of kind {@link Kind#WORKLOADS}). */
    static ServiceInstances of(List<Resource> sets) {
        Map<String, Map<ServiceKey, List<Instance>>> bySet = new TreeMap<>();
        Map<ServiceKey, Set<String>> setsOf = new TreeMap<>();
        for (Resource r : sets) {
            Map<ServiceKey, List<Instance>> instances = instances(Records.fromJson(r, WorkloadSetRecord.class));
            bySet.put(r.name(), instances);
            instances.keySet().forEach(k -> setsOf.computeIfAbsent(k, x -> new TreeSet<>()).add(r.name()));
        }
        Map<ServiceKey, List<Instance>> services = new TreeMap<>(); // as merged() gives, in one pass over the sets
        bySet.values().forEach(set -> set.forEach((key, instances) -> services.computeIfAbsent(key,
                k -> new ArrayList<>()).addAll(instances)));
        services.replaceAll((key, all) -> {
            all.sort(ORDER); // stable
            return List.copyOf(all);
        });
        return new ServiceInstances(bySet, setsOf, services);
    }

    /** An update and the services whose instances it changed (in any way, order included). */
    record Updated(ServiceInstances instances, Set<ServiceKey> changed) {}

    /**
     * These instances with some sets replaced: {@code sets} maps a set's store name to its new record, or to null
     * when the set was deleted.
     */
    Updated with(Map<String, WorkloadSetRecord> sets) {
        Map<String, Map<ServiceKey, List<Instance>>> bySet = new TreeMap<>(this.bySet);
        Map<ServiceKey, Set<String>> setsOf = new TreeMap<>(this.setsOf);
        Set<ServiceKey> touched = new TreeSet<>();
        sets.forEach((name, record) -> {
            Map<ServiceKey, List<Instance>> before = bySet.getOrDefault(name, Map.of());
            Map<ServiceKey, List<Instance>> after = record == null ? Map.of() : instances(record);
            if (record == null) {
                bySet.remove(name);
            } else {
                bySet.put(name, after);
            }
            for (ServiceKey k : before.keySet()) {
                if (!after.containsKey(k)) {
                    Set<String> names = new TreeSet<>(setsOf.get(k));
                    names.remove(name);
                    if (names.isEmpty()) {
                        setsOf.remove(k);
                    } else {
                        setsOf.put(k, Collections.unmodifiableSet(names));
                    }
                }
            }
            for (ServiceKey k : after.keySet()) {
                Set<String> names = setsOf.get(k);
                if (names == null || !names.contains(name)) {
                    Set<String> more = names == null ? new TreeSet<>() : new TreeSet<>(names);
                    more.add(name);
                    setsOf.put(k, Collections.unmodifiableSet(more));
                }
            }
            for (ServiceKey k : before.keySet()) {
                if (!before.get(k).equals(after.get(k))) {
                    touched.add(k);
                }
            }
            for (ServiceKey k : after.keySet()) {
                if (!after.get(k).equals(before.get(k))) {
                    touched.add(k);
                }
            }
        });
        Map<ServiceKey, List<Instance>> services = new TreeMap<>(this.services);
        Set<ServiceKey> changed = new TreeSet<>();
        for (ServiceKey k : touched) {
            Set<String> names = setsOf.get(k);
            List<Instance> now = names == null ? null : merged(bySet, k, names);
            List<Instance> was = now == null ? services.remove(k) : services.put(k, now);
            if (!java.util.Objects.equals(was, now)) {
                changed.add(k);
            }
        }
        return new Updated(new ServiceInstances(bySet, setsOf, services), Collections.unmodifiableSet(changed));
    }

    /** Per service, its instances; sorted by service. */
    Map<ServiceKey, List<Instance>> services() {
        return services;
    }

    private static List<Instance> merged(Map<String, Map<ServiceKey, List<Instance>>> bySet, ServiceKey key,
            Set<String> names) {
        List<Instance> all = new ArrayList<>();
        for (String name : names) {
            all.addAll(bySet.get(name).get(key));
        }
        all.sort(ORDER); // stable
        return List.copyOf(all);
    }

    private static Map<ServiceKey, List<Instance>> instances(WorkloadSetRecord set) {
        Map<ServiceKey, List<Instance>> out = new TreeMap<>();
        for (WorkloadSetRecord.Workload w : set.workloads()) {
            out.computeIfAbsent(new ServiceKey(w.service(), w.namespace()), k -> new ArrayList<>())
                    .add(new Instance(w.service(), w.namespace(), set.member(), set.network(), w.address(), w.port(),
                            w.healthy(), w.locality() == null ? "" : w.locality(),
                            w.inbound() == null ? "" : w.inbound(), set.agent(), w.weight()));
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        return out;
    }
}
