package io.meshfed.controller.model;

import java.util.List;
import java.util.TreeSet;

/**
 * The export policy of a service ({@code name.namespace}, the same in every member): to every member, or to the
 * named ones. Absent means exported to nobody (default deny). {@code offeredBy} is null for an admin's decision,
 * which covers every member's instances; a member cluster's ServiceExport creates a record offered by that member,
 * which covers only that member's own instances, so a cluster can never export another member's service.
 * {@code failoverNetworks} is the admin's order of remote networks for the service (those listed first, in that
 * order; the rest by locality); empty when none was given. {@code toTrustDomains} are federated outside trust
 * domains whose identities may call the service: they are no members, so the service becomes visible to nobody
 * more, but the proxies in front of its instances let those identities in ({@code --all} never includes them).
 */
public record ExportRecord(String service, String namespace, boolean toAll, List<String> toMembers,
        String offeredBy, List<String> failoverNetworks, List<String> toTrustDomains) {
    public ExportRecord {
        toMembers = toMembers == null ? List.of() : List.copyOf(new TreeSet<>(toMembers));
        failoverNetworks = failoverNetworks == null ? List.of() : List.copyOf(failoverNetworks);
        toTrustDomains = toTrustDomains == null ? List.of() : List.copyOf(new TreeSet<>(toTrustDomains));
    }

    /** An export policy to members only (no federated outside trust domain). */
    public ExportRecord(String service, String namespace, boolean toAll, List<String> toMembers, String offeredBy,
            List<String> failoverNetworks) {
        this(service, namespace, toAll, toMembers, offeredBy, failoverNetworks, List.of());
    }

    /** An export policy without failover priorities. */
    public ExportRecord(String service, String namespace, boolean toAll, List<String> toMembers, String offeredBy) {
        this(service, namespace, toAll, toMembers, offeredBy, List.of());
    }

    /** An admin's export policy, covering every member's instances. */
    public ExportRecord(String service, String namespace, boolean toAll, List<String> toMembers) {
        this(service, namespace, toAll, toMembers, null);
    }

    /** Whether the policy covers the instances of {@code provider}. */
    public boolean covers(String provider) {
        return offeredBy == null || offeredBy.equals(provider);
    }

    public static String key(String service, String namespace) {
        return service + "." + namespace;
    }

    public boolean exportedTo(String member) {
        return toAll || toMembers.contains(member);
    }

    /** Exported to nobody (failover priorities alone export nothing). */
    public boolean isEmpty() {
        return !toAll && toMembers.isEmpty() && toTrustDomains.isEmpty();
    }
}
