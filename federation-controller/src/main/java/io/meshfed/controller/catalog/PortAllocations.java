package io.meshfed.controller.catalog;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.StoreTransaction;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The outbound listen ports of federated service ports: one per {@code port.name.namespace}, from
 * {@code [FIRST_PORT, LAST_PORT]}, shared by every gateway and agent and stable while the service port has a
 * workload. A port is freed in the transaction that removes the last workload of its service port. Each member may
 * hold at most {@code quota} service ports (counted over all its workload sets), so one member cannot take the range
 * from the others; what a set asks beyond its quota, or beyond the range, gets no port and is named in the result.
 */
public final class PortAllocations {
    public static final int FIRST_PORT = 15100;
    public static final int LAST_PORT = 15999;
    public static final int DEFAULT_MEMBER_QUOTA = 256;

    /** The service ports ({@code port.name.namespace}) that got no listen port, by cause. */
    public record Result(List<String> overQuota, List<String> exhausted) {
        public Result {
            overQuota = List.copyOf(overQuota);
            exhausted = List.copyOf(exhausted);
        }

        public boolean complete() {
            return overQuota.isEmpty() && exhausted.isEmpty();
        }
    }

    private PortAllocations() {}

    /** The allocation key of a workload's service port. */
    public static String key(WorkloadSetRecord.Workload w) {
        return PortAllocationRecord.key(w.service(), w.namespace(), w.port());
    }

    /**
     * Checks, for the set {@code next} that is about to replace the set stored under its key, which of its
     * service ports exceed its member's quota, and gives a listen port to each new service port within it.
     * Call before writing {@code next}; call {@link #releaseUnused} after.
     */
    public static Result allocate(StoreTransaction tx, WorkloadSetRecord next, int quota) {
        Set<String> heldElsewhere = new HashSet<>();
        for (WorkloadSetRecord set : Records.list(tx, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            if (set.member().equals(next.member()) && !set.agent().equals(next.agent())) {
                set.workloads().forEach(w -> heldElsewhere.add(key(w)));
            }
        }
        Set<String> wanted = new LinkedHashSet<>();
        next.workloads().forEach(w -> wanted.add(key(w)));
        Set<String> counted = new HashSet<>(heldElsewhere);
        List<String> overQuota = new java.util.ArrayList<>();
        List<String> within = new java.util.ArrayList<>();
        for (String k : wanted) {
            if (counted.contains(k)) {
                within.add(k);
            } else if (counted.size() < quota) {
                counted.add(k);
                within.add(k);
            } else {
                overQuota.add(k);
            }
        }
        return new Result(overQuota, assign(tx, within));
    }

    /** Gives each key without a listen port the lowest free one; returns the keys left without (range used up). */
    private static List<String> assign(StoreTransaction tx, List<String> keys) {
        BitSet used = new BitSet();
        Records.list(tx, Kind.PORT, PortAllocationRecord.class).forEach(p -> used.set(p.listenPort()));
        List<String> left = new java.util.ArrayList<>();
        for (String k : keys) {
            if (tx.get(Kind.PORT.storeName(), k).isPresent()) {
                continue;
            }
            int port = used.nextClearBit(FIRST_PORT);
            if (port > LAST_PORT) {
                left.add(k);
                continue;
            }
            used.set(port);
            String[] parts = k.split("\\.", 3);
            Records.put(tx, Kind.PORT, k, new PortAllocationRecord(parts[1], parts[2], Integer.parseInt(parts[0]),
                    port), StoreTransaction.ABSENT);
        }
        return left;
    }

    /** Deletes the listen ports whose service port no stored workload has any more; returns how many. */
    public static int releaseUnused(StoreTransaction tx) {
        Set<String> inUse = new HashSet<>();
        for (WorkloadSetRecord set : Records.list(tx, Kind.WORKLOADS, WorkloadSetRecord.class)) {
            set.workloads().forEach(w -> inUse.add(key(w)));
        }
        int released = 0;
        for (PortAllocationRecord p : Records.list(tx, Kind.PORT, PortAllocationRecord.class)) {
            String k = PortAllocationRecord.key(p.service(), p.namespace(), p.servicePort());
            if (!inUse.contains(k)) {
                tx.delete(Kind.PORT.storeName(), k, StoreTransaction.ANY);
                released++;
            }
        }
        return released;
    }
}
