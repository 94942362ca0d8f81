package io.meshfed.dataplane;

import io.meshfed.trust.InvalidSpiffeIdException;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The rule for a forwarded identity ({@code meshfed-forwarded-identity} on a tunnel stream): a gateway may speak only
 * for a workload of its own member, and only the gateway of a member that has pods to attest (a Kubernetes member)
 * may speak for anyone. Accepted only when the TLS peer's verified ID has the gateway shape, its trust domain is one
 * of the table's forwarders (a VM member's gateway is not: a workload ID in its trust domain would be one no
 * workload has, and could match an admin's allow pattern written for that member's agents), the header appears once and holds one well-formed SPIFFE ID with the workload shape ({@code /ns/<ns>/sa/<sa>}, a pod the
 * gateway attested), and that ID lies in the peer's own trust domain. Anything else is a forgery, refused, never
 * downgraded to the peer's own identity.
 */
final class ForwardedIdentity {
    private ForwardedIdentity() {}

    /**
     * The identity {@code peer} forwarded in {@code values} (the header's values), or empty when it may not;
     * {@code forwarders} are the trust domains whose gateways may forward.
     */
    static Optional<SpiffeId> accept(SpiffeId peer, List<? extends CharSequence> values, Set<String> forwarders) {
        if (values.size() != 1 || !MeshfedIds.hasRole(peer, MeshfedIds.Role.GATEWAY)
                || !forwarders.contains(peer.trustDomain().toString())) {
            return Optional.empty();
        }
        SpiffeId forwarded;
        try {
            forwarded = SpiffeId.parse(values.get(0).toString());
        } catch (InvalidSpiffeIdException e) {
            return Optional.empty();
        }
        if (!forwarded.trustDomain().equals(peer.trustDomain())
                || !MeshfedIds.hasRole(forwarded, MeshfedIds.Role.WORKLOAD)) {
            return Optional.empty();
        }
        return Optional.of(forwarded);
    }
}
