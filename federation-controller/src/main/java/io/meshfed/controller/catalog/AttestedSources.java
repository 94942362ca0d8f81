package io.meshfed.controller.catalog;

import io.meshfed.api.v1.AttestedSource;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.PodIdentitiesRecord;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.TrustDomain;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The pod identities a Kubernetes member's east-west gateways may forward: each attestable pod's address with the
 * workload ID {@code spiffe://<member td>/ns/<namespace>/sa/<service account>}, built by {@link MeshfedIds} in the
 * member's own trust domain, whatever the stored strings contain (a namespace or service account that is not one
 * valid SPIFFE path segment is left out; the connector already counted it). Sorted by address; an address that
 * appears twice is left out entirely (it would attest a pod that may not be the caller). Pure.
 */
final class AttestedSources {
    private AttestedSources() {}

    /** The attested sources of {@code member}; empty when it is not a member of the view whose gateway attests sources. */
    static List<AttestedSource> of(CatalogView view, String member) {
        MemberRecord m = view.members().get(member);
        if (m == null || !io.meshfed.controller.model.MemberType.of(m).gatewayAttestsSources()) {
            return List.of();
        }
        TrustDomain trustDomain;
        try {
            trustDomain = TrustDomain.parse(m.trustDomain());
        } catch (IllegalArgumentException e) {
            return List.of();
        }
        List<PodIdentitiesRecord.Pod> pods = view.attestablePods(member); // sorted by address
        Set<String> repeated = new HashSet<>();
        for (int i = 1; i < pods.size(); i++) {
            if (pods.get(i).address().equals(pods.get(i - 1).address())) {
                repeated.add(pods.get(i).address());
            }
        }
        List<AttestedSource> sources = new ArrayList<>(pods.size());
        for (PodIdentitiesRecord.Pod p : pods) {
            if (repeated.contains(p.address())) {
                continue;
            }
            try {
                sources.add(AttestedSource.newBuilder().setAddress(p.address())
                        .setIdentity(MeshfedIds.workload(trustDomain, p.namespace(), p.serviceAccount()).toString())
                        .build());
            } catch (IllegalArgumentException e) {
                // not one valid path segment: this pod cannot be named, so it is not attested
            }
        }
        return sources;
    }
}
