package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.concurrent.SerialExecutor;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.Store;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps revoked identities out of the catalog. Revoking withdraws their workloads and gateway record in its own
 * transaction; a report the identity made in the moment before every replica knew of the revocation could still
 * write them again, and this watcher removes such a write as soon as it commits.
 */
public final class RevokedWithdrawals implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RevokedWithdrawals.class);

    private final Store store;
    private final RevokedIdentities revoked;
    private final SerialExecutor writer;
    private final Store.Watch watch;
    private final ReportWithdrawal withdrawal;

    public RevokedWithdrawals(Store store, RevokedIdentities revoked, ReportWithdrawal withdrawal,
            ScheduledExecutorService timer) {
        this.store = requireNonNull(store, "store");
        this.revoked = requireNonNull(revoked, "revoked");
        this.withdrawal = requireNonNull(withdrawal, "withdrawal");
        this.writer = SerialExecutor.start("revoked-withdrawals", timer);
        this.watch = store.watch(store.revision(), this::check);
    }

    private void check(Change change) {
        boolean reported = change.kind().equals(Kind.WORKLOADS.storeName())
                || change.kind().equals(Kind.GATEWAY.storeName());
        if (change.op() != Change.Op.PUT || !reported || !revoked.isRevoked(change.name())) {
            return;
        }
        writer.executeIfRunning(() -> withdraw(change.name())); // dropped while closing
    }

    private void withdraw(String spiffeId) {
        writer.checkInContext();
        try {
            ReportWithdrawal.Withdrawn withdrawn = store.transact(tx -> withdrawal.withdraw(tx, spiffeId));
            if (withdrawn.any()) {
                LOG.warn("revoked identity {} reported again before its revocation reached this controller;"
                        + " withdrew {}", spiffeId, withdrawn);
            }
        } catch (RuntimeException e) {
            LOG.error("cannot withdraw what revoked identity {} reported: {}", spiffeId, e.toString());
        }
    }

    @Override
    public void close() {
        watch.close();
        writer.shutdown(java.time.Duration.ofSeconds(5));
    }
}
