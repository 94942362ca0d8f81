package io.meshfed.controller.identity;

import io.meshfed.controller.model.FederationRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last good bundles of the outside trust domains the admin federated with ({@code FederationRecord}s), for the
 * bundle set. A foreign bundle never stands for one of the federation's own trust domains: a record whose trust
 * domain is the federation's or a member's is left out (the admin API refuses to make one, and a member added later
 * with that trust domain wins), so a foreign endpoint can neither replace nor add to their roots.
 */
public final class FederatedBundles {
    private static final Logger LOG = LoggerFactory.getLogger(FederatedBundles.class);

    private FederatedBundles() {}

    /** The foreign bundles, leaving out any for a trust domain in {@code own}. */
    public static List<TrustBundle> read(StoreReader store, Set<TrustDomain> own) {
        List<TrustBundle> bundles = new ArrayList<>();
        for (FederationRecord f : Records.list(store, Kind.FEDERATION, FederationRecord.class)) {
            if (f.bundleJson() == null) {
                continue;
            }
            TrustDomain td = TrustDomain.parse(f.trustDomain());
            if (own.contains(td)) {
                LOG.warn("federation with {} left out of the bundle set: it is one of this federation's own trust"
                        + " domains; delete it (meshfed trust federation delete {})", td, td);
                continue;
            }
            try {
                bundles.add(SpiffeBundleJson.decodeFederated(td, f.bundleJson()));
            } catch (TrustFormatException e) {
                LOG.warn("stored bundle of federated trust domain {} does not read: {}", td, e.getMessage());
            }
        }
        return bundles;
    }
}
