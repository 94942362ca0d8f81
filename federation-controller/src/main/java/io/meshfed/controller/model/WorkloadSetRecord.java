package io.meshfed.controller.model;

import io.meshfed.trust.MeshfedIds;
import java.util.List;
import java.util.Optional;

/**
 * The workloads one agent reported last (a new report replaces the set), keyed by the agent's SPIFFE ID; or the
 * endpoints a connector read from a Kubernetes member, keyed by {@link ClusterRecord#workloadSetKey(String)}.
 */
public record WorkloadSetRecord(String agent, String member, String network, List<Workload> workloads) {
    public WorkloadSetRecord {
        workloads = workloads == null ? List.of() : List.copyOf(workloads);
    }

    /** Whether an agent reported this set: its key is an agent's SPIFFE ID ({@code /ns/<namespace>/vm/<name>}). */
    public boolean reportedByAgent() {
        return MeshfedIds.roleOf(agent).equals(Optional.of(MeshfedIds.Role.AGENT));
    }

    /** The same set with every workload unhealthy (the agent is gone). */
    public WorkloadSetRecord allUnhealthy() {
        return new WorkloadSetRecord(agent, member, network, workloads.stream().map(w -> new Workload(w.service(),
                w.namespace(), w.address(), w.port(), false, w.locality(), w.inbound(), w.weight())).toList());
    }

    /**
     * One instance of a service. {@code inbound} is the host:port of the agent's mTLS listener in front of it
     * (null in records written before agents fronted their workloads). {@code weight} is its share in balancing,
     * 1 to {@link #MAX_WEIGHT}; records written before weights existed read as 1.
     */
    public record Workload(String service, String namespace, String address, int port, boolean healthy,
            String locality, String inbound, int weight) {
        /** The largest weight a workload may have. */
        public static final int MAX_WEIGHT = 1000;

        public Workload {
            weight = weight <= 0 ? 1 : Math.min(weight, MAX_WEIGHT);
        }

        /** A workload of weight 1. */
        public Workload(String service, String namespace, String address, int port, boolean healthy,
                String locality, String inbound) {
            this(service, namespace, address, port, healthy, locality, inbound, 1);
        }
    }
}
