package io.meshfed.controller.catalog;

import io.meshfed.controller.identity.ReportWithdrawal;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.StoreTransaction;

/** Withdraws what an identity reported: its workload set (freeing the listen ports no one else uses) and its gateway record. */
public final class CatalogWithdrawal implements ReportWithdrawal {
    private final PortAllocations ports;

    public CatalogWithdrawal(PortAllocations ports) {
        this.ports = java.util.Objects.requireNonNull(ports, "ports");
    }

    @Override
    public Withdrawn withdraw(StoreTransaction tx, String spiffeId) {
        int workloads = Records.get(tx, Kind.WORKLOADS, spiffeId, WorkloadSetRecord.class)
                .map(s -> s.workloads().size()).orElse(0);
        if (tx.delete(Kind.WORKLOADS.storeName(), spiffeId, StoreTransaction.ANY)) {
            ports.reconcile(tx);
        }
        boolean gateway = tx.delete(Kind.GATEWAY.storeName(), spiffeId, StoreTransaction.ANY);
        return new Withdrawn(workloads, gateway);
    }
}
