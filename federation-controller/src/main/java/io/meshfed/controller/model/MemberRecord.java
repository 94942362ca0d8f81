package io.meshfed.controller.model;

import java.util.List;

/**
 * A member (a VM group, a Kubernetes cluster), in one network and trust domain. {@code cidrs} are the address
 * ranges the admin gave it (empty: any address); see {@code catalog.MemberAddresses}.
 */
public record MemberRecord(String name, String type, String network, String trustDomain, List<String> identities,
        List<String> cidrs) {
    public MemberRecord {
        identities = identities == null ? List.of() : List.copyOf(identities);
        cidrs = cidrs == null ? List.of() : List.copyOf(cidrs);
    }

    public MemberRecord withIdentity(String spiffeId) {
        if (identities.contains(spiffeId)) {
            return this;
        }
        List<String> more = new java.util.ArrayList<>(identities);
        more.add(spiffeId);
        java.util.Collections.sort(more);
        return new MemberRecord(name, type, network, trustDomain, more, cidrs);
    }
}
