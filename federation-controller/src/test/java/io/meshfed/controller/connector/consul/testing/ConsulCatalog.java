package io.meshfed.controller.connector.consul.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The catalog of the Consul test server: nodes, their services and checks, and the Raft index. Every write takes the
 * next index and becomes the ModifyIndex of what it touched. A blocking read waits until the index of what it reads
 * (a service name's last change, or the services table's) moves past the one the client holds, or until its wait ends.
 */
final class ConsulCatalog {
    /** Check states, as Consul spells them. */
    static final List<String> STATES = List.of("passing", "warning", "critical", "maintenance");

    record Node(String id, String name, String address, Map<String, String> meta, long createIndex,
            long modifyIndex) { }

    record Service(String node, String id, String name, List<String> tags, String address, int port,
            Map<String, String> meta, long createIndex, long modifyIndex) { }

    record Check(String node, String checkId, String name, String status, String serviceId, String serviceName,
            String output, long createIndex, long modifyIndex) { }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Node> nodes = new TreeMap<>();
    /** node -> service ID -> service. */
    private final Map<String, Map<String, Service>> services = new TreeMap<>();
    /** node -> check ID -> check. */
    private final Map<String, Map<String, Check>> checks = new TreeMap<>();
    /** service name -> the index of its last change (registration, deregistration, a check of it). */
    private final Map<String, Long> serviceIndex = new TreeMap<>();
    private long index = 1;
    private long servicesTableIndex = 1;
    private long nodesTableIndex = 1;

    long index() {
        return locked(() -> index);
    }

    /** Index goes back to {@code to}: what a Consul agent that lost its data does on restart. */
    void resetIndex(long to) {
        locked(() -> {
            index = to;
            servicesTableIndex = Math.min(servicesTableIndex, to);
            nodesTableIndex = Math.min(nodesTableIndex, to);
            serviceIndex.replaceAll((k, v) -> Math.min(v, to));
            changed.signalAll();
            return null;
        });
    }

    void upsertNode(String name, String address, Map<String, String> meta) {
        locked(() -> {
            long i = ++index;
            Node old = nodes.get(name);
            nodes.put(name, new Node(old == null ? UUID.nameUUIDFromBytes(name.getBytes()).toString() : old.id(),
                    name, address, Map.copyOf(meta), old == null ? i : old.createIndex(), i));
            nodesTableIndex = i;
            // A node's address is part of every service entry on it.
            services.getOrDefault(name, Map.of()).values().forEach(s -> serviceIndex.put(s.name(), i));
            servicesTableIndex = i;
            changed.signalAll();
            return null;
        });
    }

    boolean hasNode(String name) {
        return locked(() -> nodes.containsKey(name));
    }

    void upsertService(String node, String id, String name, List<String> tags, String address, int port,
            Map<String, String> meta) {
        locked(() -> {
            long i = ++index;
            Map<String, Service> onNode = services.computeIfAbsent(node, n -> new TreeMap<>());
            Service old = onNode.get(id);
            if (old != null && !old.name().equals(name)) {
                serviceIndex.put(old.name(), i);
            }
            onNode.put(id, new Service(node, id, name, List.copyOf(tags), address, port, Map.copyOf(meta),
                    old == null ? i : old.createIndex(), i));
            serviceIndex.put(name, i);
            servicesTableIndex = i;
            changed.signalAll();
            return null;
        });
    }

    /** False when the node has no such service. */
    boolean removeService(String node, String id) {
        return locked(() -> {
            Service old = services.getOrDefault(node, new TreeMap<>()).remove(id);
            if (old == null) {
                return false;
            }
            long i = ++index;
            checks.getOrDefault(node, new TreeMap<>()).values().removeIf(c -> id.equals(c.serviceId()));
            serviceIndex.put(old.name(), i);
            servicesTableIndex = i;
            changed.signalAll();
            return true;
        });
    }

    /** False when there was no such node. */
    boolean removeNode(String node) {
        return locked(() -> {
            if (nodes.remove(node) == null) {
                return false;
            }
            long i = ++index;
            services.getOrDefault(node, Map.of()).values().forEach(s -> serviceIndex.put(s.name(), i));
            services.remove(node);
            checks.remove(node);
            nodesTableIndex = i;
            servicesTableIndex = i;
            changed.signalAll();
            return true;
        });
    }

    void upsertCheck(String node, String checkId, String name, String status, String serviceId, String output) {
        if (!STATES.contains(status)) {
            throw new IllegalArgumentException("unknown check status " + status);
        }
        locked(() -> {
            long i = ++index;
            Map<String, Check> onNode = checks.computeIfAbsent(node, n -> new TreeMap<>());
            Check old = onNode.get(checkId);
            String serviceName = "";
            if (serviceId != null && !serviceId.isEmpty()) {
                Service s = services.getOrDefault(node, Map.of()).get(serviceId);
                serviceName = s == null ? "" : s.name();
            }
            onNode.put(checkId, new Check(node, checkId, name, status, serviceId == null ? "" : serviceId,
                    serviceName, output == null ? "" : output, old == null ? i : old.createIndex(), i));
            if (!serviceName.isEmpty()) {
                serviceIndex.put(serviceName, i);
            } else {
                // A node check (serfHealth) changes the health of every service on the node.
                services.getOrDefault(node, Map.of()).values().forEach(s -> serviceIndex.put(s.name(), i));
            }
            changed.signalAll();
            return null;
        });
    }

    /** The check with this ID on any node, or null. */
    Check findCheck(String checkId) {
        return locked(() -> checks.values().stream().map(m -> m.get(checkId)).filter(c -> c != null).findFirst()
                .orElse(null));
    }

    Service findService(String node, String id) {
        return locked(() -> services.getOrDefault(node, Map.of()).get(id));
    }

    /** Service name -> the union of its instances' tags, as /v1/catalog/services answers. */
    Map<String, List<String>> serviceNames() {
        return locked(() -> {
            Map<String, java.util.LinkedHashSet<String>> out = new TreeMap<>();
            services.values().forEach(m -> m.values().forEach(s ->
                    out.computeIfAbsent(s.name(), n -> new java.util.LinkedHashSet<>()).addAll(s.tags())));
            Map<String, List<String>> result = new LinkedHashMap<>();
            out.forEach((k, v) -> result.put(k, List.copyOf(v)));
            return result;
        });
    }

    /** One instance of a service with its node and every check that bears on it (node checks and its own). */
    record Entry(Node node, Service service, List<Check> checks) { }

    List<Entry> instances(String name) {
        return locked(() -> {
            List<Entry> out = new ArrayList<>();
            services.forEach((node, m) -> m.values().stream().filter(s -> s.name().equals(name)).forEach(s -> {
                List<Check> cs = checks.getOrDefault(node, Map.of()).values().stream()
                        .filter(c -> c.serviceId().isEmpty() || c.serviceId().equals(s.id())).toList();
                out.add(new Entry(nodes.get(node), s, cs));
            }));
            return out;
        });
    }

    /** The index a read of one service reports: its own last change, or the services table's when it has none. */
    long serviceIndex(String name) {
        return locked(() -> Math.max(1, serviceIndex.getOrDefault(name, servicesTableIndex)));
    }

    long servicesTableIndex() {
        return locked(() -> Math.max(1, servicesTableIndex));
    }

    /**
     * Blocks until {@code current} (read under the lock) is above {@code seen}, or until the wait ends; 0 does not
     * block. Returns the index the read reports.
     */
    long await(long seen, long waitMillis, Supplier<Long> current) throws InterruptedException {
        lock.lock();
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
            while (seen > 0 && current.get() <= seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            return current.get();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every blocked read, as a server going away does. */
    void wakeAll() {
        locked(() -> {
            changed.signalAll();
            return null;
        });
    }

    private <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }
}
