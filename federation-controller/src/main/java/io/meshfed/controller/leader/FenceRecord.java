package io.meshfed.controller.leader;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.util.Optional;

/**
 * The store's {@code Lease/leader} record as the fencing token: which holder may write leader-only, at which epoch.
 * Its epoch only ever rises; a released record keeps it with an empty holder.
 */
final class FenceRecord {
    private FenceRecord() {}

    static Optional<LeaseRecord> read(Store store) {
        return Records.get(store, Kind.LEASE, LeaderElection.NAME, LeaseRecord.class);
    }

    static boolean heldBy(Store store, String holder, long epoch) {
        return read(store).map(f -> f.holder().equals(holder) && f.epoch() == epoch).orElse(false);
    }

    /** Names {@code holder} at {@code epoch}, unless the record already has an epoch as high: then false. */
    static boolean claim(Store store, String holder, long epoch) {
        return write(store, holder, epoch, current -> current.map(LeaseRecord::epoch).orElse(0L) < epoch);
    }

    /** Frees the record, if it still names {@code holder} at {@code epoch}; the epoch stays. */
    static void free(Store store, String holder, long epoch) {
        write(store, "", epoch, current -> current.map(f -> f.holder().equals(holder) && f.epoch() == epoch)
                .orElse(false));
    }

    private static boolean write(Store store, String holder, long epoch,
            java.util.function.Predicate<Optional<LeaseRecord>> when) {
        try {
            return store.transact(tx -> {
                Optional<Resource> r = tx.get(Kind.LEASE.storeName(), LeaderElection.NAME);
                if (!when.test(r.map(x -> Records.fromJson(x, LeaseRecord.class)))) {
                    return false;
                }
                Records.put(tx, Kind.LEASE, LeaderElection.NAME, new LeaseRecord(holder, epoch,
                        System.currentTimeMillis()), r.map(Resource::revision).orElse(StoreTransaction.ABSENT));
                return true;
            });
        } catch (ConflictException e) {
            return false;
        }
    }
}
