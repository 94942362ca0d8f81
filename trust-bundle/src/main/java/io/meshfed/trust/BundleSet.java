package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The federated bundle set: trust domain to bundle, with a version that increases whenever the set changes.
 * Immutable; "changes" return a new set.
 */
public final class BundleSet {
    private static final BundleSet EMPTY = new BundleSet(0, Collections.emptyMap());

    private final long version;
    private final Map<TrustDomain, TrustBundle> bundles;

    private BundleSet(long version, Map<TrustDomain, TrustBundle> bundles) {
        this.version = version;
        this.bundles = bundles;
    }

    public static BundleSet empty() {
        return EMPTY;
    }

    /**
     * A set of the given bundles at {@code version}.
     *
     * @throws IllegalArgumentException when two bundles are for the same trust domain, or version is negative
     */
    public static BundleSet of(long version, Collection<TrustBundle> bundles) {
        requireNonNull(bundles, "bundles");
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0, got " + version);
        }
        Map<TrustDomain, TrustBundle> map = new TreeMap<>();
        for (TrustBundle bundle : bundles) {
            requireNonNull(bundle, "bundle");
            if (map.put(bundle.trustDomain(), bundle) != null) {
                throw new IllegalArgumentException("two bundles for trust domain " + bundle.trustDomain());
            }
        }
        return new BundleSet(version, Collections.unmodifiableMap(map));
    }

    public static BundleSet of(TrustBundle... bundles) {
        return of(1, java.util.List.of(bundles));
    }

    public long version() {
        return version;
    }

    public Optional<TrustBundle> find(TrustDomain trustDomain) {
        return Optional.ofNullable(bundles.get(requireNonNull(trustDomain, "trustDomain")));
    }

    public Set<TrustDomain> trustDomains() {
        return bundles.keySet();
    }

    /** Bundles ordered by trust domain name. */
    public Collection<TrustBundle> bundles() {
        return bundles.values();
    }

    /** This set with {@code bundle} added or replacing its trust domain's bundle, at version + 1. */
    public BundleSet with(TrustBundle bundle) {
        requireNonNull(bundle, "bundle");
        Map<TrustDomain, TrustBundle> map = new TreeMap<>(bundles);
        map.put(bundle.trustDomain(), bundle);
        return new BundleSet(version + 1, Collections.unmodifiableMap(map));
    }

    /** This set without {@code trustDomain}, at version + 1 (the same set when it was absent). */
    public BundleSet without(TrustDomain trustDomain) {
        if (!bundles.containsKey(trustDomain)) {
            return this;
        }
        Map<TrustDomain, TrustBundle> map = new TreeMap<>(bundles);
        map.remove(trustDomain);
        return new BundleSet(version + 1, Collections.unmodifiableMap(map));
    }

    @Override
    public String toString() {
        return "BundleSet[version " + version + ", " + bundles.keySet() + "]";
    }
}
