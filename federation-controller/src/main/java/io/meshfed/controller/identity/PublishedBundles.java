package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.store.StoreReader;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.ExternalCertificateAuthority;
import java.util.Optional;

/**
 * What the controller's SPIFFE bundle endpoint serves ({@code GET /.well-known/spiffe-bundle/<trust-domain>}): the
 * SPIFFE bundle JSON, with {@code spiffe_sequence} (the bundle set's version, so it only goes up) and
 * {@code spiffe_refresh_hint}, of the trust domains whose CA this federation holds, the federation's own and its
 * members' (both roots while a rotation runs). Not served: an external member's trust domain (its own mesh publishes
 * its bundle) and every federated foreign trust domain (this federation does not vouch for other meshes' roots).
 */
public final class PublishedBundles {
    private final TrustState trust;
    private final StoreReader store;

    public PublishedBundles(TrustState trust, StoreReader store) {
        this.trust = requireNonNull(trust, "trust");
        this.store = requireNonNull(store, "store");
    }

    /** The bundle document of {@code trustDomainName}; empty when it is not one this federation publishes. */
    public Optional<String> document(String trustDomainName) {
        TrustDomain td;
        try {
            td = TrustDomain.parse(trustDomainName);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        FederationIdentity identity = trust.identity();
        boolean own = td.equals(identity.federationTrustDomain());
        if (!own && (TrustState.memberOf(store, td).isEmpty()
                || ExternalCertificateAuthority.BACKEND.equals(identity.backendOf(td, 0)))) {
            return Optional.empty();
        }
        return trust.bundleSet(store).find(td).map(SpiffeBundleJson::encode);
    }
}
