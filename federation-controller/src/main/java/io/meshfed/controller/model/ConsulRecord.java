package io.meshfed.controller.model;

import java.util.List;

/**
 * A Consul member's connection: the agent's HTTP API, the datacenter, the ACL token sealed under the controller's
 * key-encryption key ({@code io.meshfed.trust.ca.SealedSecrets}, purpose {@link #purpose(String)}; empty when the
 * datacenter runs without ACLs), the CA of the agent's HTTPS certificate (PEM, empty for the JDK's) and where a
 * service's namespace comes from ({@code tag}, {@code meta} or {@code default}). {@code generation} increases with
 * each change of these settings, which replaces the connector.
 */
public record ConsulRecord(String name, String network, String trustDomain, String address, String datacenter,
        String sealedToken, String caPem, String namespaceFrom, long generation) {
    private static final String WORKLOAD_SET_PREFIX = "consul/";

    public ConsulRecord {
        sealedToken = sealedToken == null ? "" : sealedToken;
        caPem = caPem == null ? "" : caPem;
    }

    public static String purpose(String member) {
        return "ACL token of Consul member " + member;
    }

    /** The key of the datacenter's exported instances among the workload sets. */
    public static String workloadSetKey(String member) {
        return WORKLOAD_SET_PREFIX + member;
    }

    /** The prefixes of workload sets that a connector reads from a member (not reported by an agent). */
    static List<String> connectorPrefixes() {
        return List.of(WORKLOAD_SET_PREFIX);
    }
}
