package io.meshfed.controller.model;

import java.util.List;

/** A member: a VM group today (Kubernetes clusters and Consul datacenters later), in one network and trust domain. */
public record MemberRecord(String name, String type, String network, String trustDomain, List<String> identities) {
    public MemberRecord {
        identities = identities == null ? List.of() : List.copyOf(identities);
    }

    public MemberRecord withIdentity(String spiffeId) {
        if (identities.contains(spiffeId)) {
            return this;
        }
        List<String> more = new java.util.ArrayList<>(identities);
        more.add(spiffeId);
        java.util.Collections.sort(more);
        return new MemberRecord(name, type, network, trustDomain, more);
    }
}
