package io.meshfed.controller.leader;

import io.meshfed.controller.store.Store;
import java.time.Duration;

/**
 * A kind of leader lease, known by the scheme of the {@code leaderLease} setting ({@code store},
 * {@code kubernetes:NAMESPACE/NAME}). Implementations are registered in {@link LeaseBackends}; nothing else chooses
 * among them.
 */
public interface LeaseBackend {
    /** The scheme of the settings it serves, e.g. {@code kubernetes}. */
    String scheme();

    /** How users write its setting, for error messages. */
    String form();

    /**
     * Checks a setting of this backend without connecting, when the configuration is read.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    void check(String location);

    /** The lease at {@code location}; its fencing record is kept in {@code store}. */
    LeaderLease open(String location, Store store, Duration ttl);
}
