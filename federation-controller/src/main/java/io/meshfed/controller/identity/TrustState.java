package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MetaRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.TrustDomain;
import java.util.List;
import java.util.Optional;

/**
 * The federated bundle set as the store describes it: the federation's trust domain plus every member's, at the
 * version the store keeps (bumped by the membership service in the transaction that adds or removes a member).
 */
public final class TrustState {
    private final FederationIdentity identity;

    public TrustState(FederationIdentity identity) {
        this.identity = requireNonNull(identity, "identity");
    }

    public BundleSet bundleSet(StoreReader store) {
        List<TrustDomain> memberTds = Records.list(store, Kind.MEMBER, MemberRecord.class).stream()
                .map(m -> TrustDomain.parse(m.trustDomain())).distinct().toList();
        long version = Records.get(store, Kind.META, MetaRecord.BUNDLE_SET_VERSION, MetaRecord.class)
                .map(MetaRecord::value).orElse(1L);
        return identity.bundleSet(version, memberTds);
    }

    /** The member whose trust domain is {@code td}. */
    public static Optional<MemberRecord> memberOf(StoreReader store, TrustDomain td) {
        return Records.list(store, Kind.MEMBER, MemberRecord.class).stream()
                .filter(m -> m.trustDomain().equals(td.name())).findFirst();
    }
}
