package io.meshfed.controller.identity;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.MetaRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.RotationRecord;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.CertificateAuthority;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The federated bundle set as the store describes it: the federation's trust domain plus every member's, at the
 * version the store keeps (bumped in the transaction that adds or removes a member, or moves a root rotation to a
 * phase with other roots). A trust domain in rotation has the roots of the generations its phase names
 * ({@link RotationRecord#bundleGenerations}); which generation issues is the store's to say too ({@link #issuer}).
 */
public final class TrustState {
    private final FederationIdentity identity;

    public TrustState(FederationIdentity identity) {
        this.identity = requireNonNull(identity, "identity");
    }

    public FederationIdentity identity() {
        return identity;
    }

    public BundleSet bundleSet(StoreReader store) {
        List<TrustDomain> memberTds = Records.list(store, Kind.MEMBER, MemberRecord.class).stream()
                .map(m -> TrustDomain.parse(m.trustDomain())).distinct().toList();
        long version = Records.get(store, Kind.META, MetaRecord.BUNDLE_SET_VERSION, MetaRecord.class)
                .map(MetaRecord::value).orElse(1L);
        Map<String, RotationRecord> rotations = rotations(store);
        List<TrustBundle> bundles = new ArrayList<>();
        bundles.add(bundle(identity.federationTrustDomain(), version, rotations));
        for (TrustDomain td : memberTds) {
            if (!td.equals(identity.federationTrustDomain())) {
                bundles.add(bundle(td, version, rotations));
            }
        }
        bundles.addAll(FederatedBundles.read(store, bundles.stream().map(TrustBundle::trustDomain)
                .collect(Collectors.toSet())));
        return BundleSet.of(version, bundles);
    }

    /** Every trust domain's rotation record (in progress or the last finished one), by trust domain. */
    public static Map<String, RotationRecord> rotations(StoreReader store) {
        return Records.list(store, Kind.ROTATION, RotationRecord.class).stream()
                .collect(Collectors.toMap(RotationRecord::trustDomain, Function.identity()));
    }

    private TrustBundle bundle(TrustDomain td, long version, Map<String, RotationRecord> rotations) {
        RotationRecord r = rotations.get(td.name());
        List<Integer> generations = r == null ? List.of(0) : r.bundleGenerations();
        LinkedHashSet<X509Certificate> roots = new LinkedHashSet<>();
        for (int g : generations) {
            roots.addAll(identity.ca(td, g).rootCertificates());
        }
        return identity.ca(td, generations.get(0)).bundle().toBuilder().x509Authorities(List.copyOf(roots))
                .sequenceNumber(version).refreshHint(Duration.ofMinutes(5)).build();
    }

    /**
     * Per trust domain whose rotation is in a phase where subscribers renew toward a generation (issue, aborting):
     * that generation's root, DER.
     */
    public Map<String, com.google.protobuf.ByteString> renewTowardRoots(StoreReader store) {
        Map<String, com.google.protobuf.ByteString> roots = new java.util.TreeMap<>();
        for (RotationRecord r : rotations(store).values()) {
            r.renewToward().ifPresent(g -> {
                X509Certificate root = identity.ca(TrustDomain.parse(r.trustDomain()), g).rootCertificates().get(0);
                try {
                    roots.put(r.trustDomain(), com.google.protobuf.ByteString.copyFrom(root.getEncoded()));
                } catch (java.security.cert.CertificateEncodingException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        return roots;
    }

    /** The generation of a trust domain's CA that issues now. */
    public static int issuingGeneration(StoreReader store, TrustDomain td) {
        return Records.get(store, Kind.ROTATION, td.name(), RotationRecord.class)
                .map(RotationRecord::issuingGeneration).orElse(0);
    }

    /** The CA that issues a trust domain's SVIDs now. */
    public CertificateAuthority issuer(StoreReader store, TrustDomain td) {
        return identity.ca(td, issuingGeneration(store, td));
    }

    /**
     * The federated bundle set changed (a trust domain joined or left, a rotation added or dropped a root): its
     * version goes up in the same transaction, so every subscriber receives the new set. Returns the new version.
     */
    public static long bumpBundleSetVersion(io.meshfed.controller.store.StoreTransaction tx) {
        long version = Records.get(tx, Kind.META, MetaRecord.BUNDLE_SET_VERSION, MetaRecord.class)
                .map(MetaRecord::value).orElse(1L) + 1;
        Records.put(tx, Kind.META, MetaRecord.BUNDLE_SET_VERSION, new MetaRecord(version),
                io.meshfed.controller.store.StoreTransaction.ANY);
        return version;
    }

    /** The member whose trust domain is {@code td}. */
    public static Optional<MemberRecord> memberOf(StoreReader store, TrustDomain td) {
        return Records.list(store, Kind.MEMBER, MemberRecord.class).stream()
                .filter(m -> m.trustDomain().equals(td.name())).findFirst();
    }
}
