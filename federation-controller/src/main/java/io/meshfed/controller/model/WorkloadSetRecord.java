package io.meshfed.controller.model;

import java.util.List;

/** The workloads one agent reported last; a new report replaces the set. Keyed by the agent's SPIFFE ID. */
public record WorkloadSetRecord(String agent, String member, String network, List<Workload> workloads) {
    public WorkloadSetRecord {
        workloads = workloads == null ? List.of() : List.copyOf(workloads);
    }

    /** The same set with every workload unhealthy (the agent is gone). */
    public WorkloadSetRecord allUnhealthy() {
        return new WorkloadSetRecord(agent, member, network, workloads.stream().map(w -> new Workload(w.service(),
                w.namespace(), w.address(), w.port(), false, w.locality(), w.inbound())).toList());
    }

    /**
     * One instance of a service. {@code inbound} is the host:port of the agent's mTLS listener in front of it
     * (null in records written before agents fronted their workloads).
     */
    public record Workload(String service, String namespace, String address, int port, boolean healthy,
            String locality, String inbound) {}
}
