package io.meshfed.controller.leader;

/**
 * A component that only the leader replica runs (member connectors, root rotations, federation refreshes). It may
 * lead and follow again many times over a replica's life; both calls come from the election's thread, in turn.
 */
public interface LeaderOnly {
    /** This replica won the lease: start the work. */
    void lead();

    /** This replica lost the lease, or is stopping: stop the work now (its writes are fenced off already). */
    void follow();
}
