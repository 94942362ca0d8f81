package io.meshfed.controller.leader;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.time.Duration;
import java.util.Optional;

/**
 * The lease as the store's own {@code Lease/leader} record, written by compare-and-set on its revision: the record
 * is the lease and its fencing token at once. Released, it keeps its epoch with an empty holder, so the next epoch
 * is still higher than every one before.
 */
final class StoreLeaderLease implements LeaderLease {
    static final String SCHEME = "store";
    private final Store store;

    StoreLeaderLease(Store store) {
        this.store = requireNonNull(store, "store");
    }

    @Override
    public String describe() {
        return "the store's Lease/" + LeaderElection.NAME + " record";
    }

    @Override
    public Optional<State> read() {
        return store.get(Kind.LEASE.storeName(), LeaderElection.NAME).map(StoreLeaderLease::state);
    }

    private static State state(Resource r) {
        LeaseRecord l = Records.fromJson(r, LeaseRecord.class);
        return new State(l.holder(), l.epoch(), Long.toString(r.revision()));
    }

    @Override
    public long take(Optional<State> seen, String holder) {
        long epoch = seen.map(s -> s.epoch() + 1).orElse(1L);
        return write(seen, holder, epoch) ? epoch : 0;
    }

    @Override
    public boolean renew(State seen, String holder, long epoch) {
        return seen.heldBy(holder, epoch) && write(Optional.of(seen), holder, epoch);
    }

    @Override
    public void release(String holder, long epoch) {
        FenceRecord.free(store, holder, epoch);
    }

    /** Writes the record if it is still at the revision seen; false when another replica wrote it first. */
    private boolean write(Optional<State> seen, String holder, long epoch) {
        long expected = seen.map(s -> Long.parseLong(s.version())).orElse(StoreTransaction.ABSENT);
        try {
            store.transact(tx -> Records.put(tx, Kind.LEASE, LeaderElection.NAME,
                    new LeaseRecord(holder, epoch, System.currentTimeMillis()), expected));
            return true;
        } catch (ConflictException e) {
            return false;
        }
    }

    /** {@code store}: the default. */
    static final class Backend implements LeaseBackend {
        @Override
        public String scheme() {
            return SCHEME;
        }

        @Override
        public String form() {
            return SCHEME;
        }

        @Override
        public void check(String location) {
            if (!location.trim().equals(SCHEME)) {
                throw new IllegalArgumentException("the store lease takes no location: write '" + SCHEME
                        + "', not '" + location + "'");
            }
        }

        @Override
        public LeaderLease open(String location, Store store, Duration ttl) {
            check(location);
            return new StoreLeaderLease(store);
        }
    }
}
