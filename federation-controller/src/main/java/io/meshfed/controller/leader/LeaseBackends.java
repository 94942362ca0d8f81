package io.meshfed.controller.leader;

import io.meshfed.controller.store.Store;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The leader lease backends by the scheme of the {@code leaderLease} setting: the one place that picks one. */
public final class LeaseBackends {
    /** The default: the lease is a record in the store the replicas share. */
    public static final String DEFAULT = StoreLeaderLease.SCHEME;
    private final Map<String, LeaseBackend> bySchemes = new LinkedHashMap<>();

    public LeaseBackends(List<LeaseBackend> backends) {
        for (LeaseBackend b : backends) {
            if (bySchemes.putIfAbsent(b.scheme(), b) != null) {
                throw new IllegalArgumentException("two leader lease backends for the scheme " + b.scheme());
            }
        }
    }

    /** A record in the store (the default) and a Kubernetes Lease (for replicas that run in a cluster). */
    public static LeaseBackends standard() {
        return new LeaseBackends(List.of(new StoreLeaderLease.Backend(), new KubernetesLeaderLease.Backend()));
    }

    /**
     * The backend of {@code location}.
     *
     * @throws IllegalArgumentException for a setting no backend serves, naming the forms that are known
     */
    public LeaseBackend of(String location) {
        int colon = location.indexOf(':');
        String scheme = (colon < 0 ? location : location.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        LeaseBackend backend = bySchemes.get(scheme);
        if (backend == null) {
            throw new IllegalArgumentException("'" + location + "' is not a leader lease; known: "
                    + String.join(", ", bySchemes.values().stream().map(LeaseBackend::form).toList()));
        }
        return backend;
    }

    public void check(String location) {
        of(location).check(location);
    }

    public LeaderLease open(String location, Store store, Duration ttl) {
        return of(location).open(location, store, ttl);
    }
}
