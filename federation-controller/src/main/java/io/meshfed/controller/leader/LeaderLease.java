package io.meshfed.controller.leader;

import java.util.Optional;

/**
 * Where the replicas' leader lease lives and how it is won, renewed and given up: by compare-and-set on a version
 * that changes on every write, so of two replicas that act on the same state only one succeeds. Whatever holds the
 * lease, a successful {@link #take} leaves the store's {@code Lease/leader} record naming the taker at the epoch it
 * won: that record is the fencing token every leader-only write checks ({@link LeaderElection#fenced}), so a
 * replica that lost the lease while paused cannot write over its successor's work. Every implementation passes
 * {@code LeaderLeaseContract}; {@link LeaseBackends} chooses one from the {@code leaderLease} setting.
 */
public interface LeaderLease extends AutoCloseable {
    /** Where it lives, for logs and status: e.g. {@code Kubernetes Lease meshfed-system/meshfed-controller-leader}. */
    String describe();

    /**
     * The lease as it stands now: empty when it was never written. A released lease reads with an empty holder.
     *
     * @throws RuntimeException when it cannot be read (the election tries again in its next round)
     */
    Optional<State> read();

    /**
     * Takes the lease for {@code holder}, if it is still as {@code seen} (empty: never written).
     *
     * @return the epoch won, higher than every epoch this lease had before; 0 when another replica changed the
     *         lease first, or won a higher epoch meanwhile
     */
    long take(Optional<State> seen, String holder);

    /** Renews {@code holder}'s lease of {@code epoch} from {@code seen}: false when it is no longer theirs. */
    boolean renew(State seen, String holder, long epoch);

    /** Gives the lease up, if it still is {@code holder}'s at {@code epoch}, so another replica takes it at once. */
    void release(String holder, long epoch);

    /** Lets go of what it holds open (a client); never the lease itself. */
    @Override
    default void close() {}

    /**
     * The lease as read: its holder (empty when released), the epoch the holder won it in, and a version that any
     * write changes (what a candidate watches: unchanged for a lease time means its holder has gone silent).
     */
    record State(String holder, long epoch, String version) {
        public State {
            holder = holder == null ? "" : holder;
        }

        /** Nobody holds it: released, so it may be taken at once. */
        public boolean free() {
            return holder.isEmpty();
        }

        public boolean heldBy(String name, long inEpoch) {
            return holder.equals(name) && epoch == inEpoch;
        }
    }
}
