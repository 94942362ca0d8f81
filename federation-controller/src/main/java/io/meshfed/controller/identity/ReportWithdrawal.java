package io.meshfed.controller.identity;

import io.meshfed.controller.store.StoreTransaction;

/**
 * Removes from the catalog what one identity reported (an agent's workloads, a gateway's or edge's gateway record),
 * in the caller's transaction. Revocation needs it; the catalog implements it, so this package does not depend on
 * the catalog's.
 */
@FunctionalInterface
public interface ReportWithdrawal {
    Withdrawn withdraw(StoreTransaction tx, String spiffeId);

    /** What withdrawing an identity removed from the catalog. */
    record Withdrawn(int workloads, boolean gateway) {
        public boolean any() {
            return workloads > 0 || gateway;
        }

        @Override
        public String toString() {
            return workloads + " workload(s)" + (gateway ? " and its gateway record" : "");
        }
    }
}
