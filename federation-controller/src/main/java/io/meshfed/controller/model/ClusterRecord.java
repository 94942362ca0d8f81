package io.meshfed.controller.model;

/**
 * A Kubernetes member's connection: the API server and the connector's kubeconfig, sealed under the controller's
 * key-encryption key ({@code io.meshfed.trust.ca.SealedSecrets}, purpose {@link #purpose(String)}). {@code
 * generation} increases with each credentials rotation.
 */
public record ClusterRecord(String name, String network, String trustDomain, String server, String sealedKubeconfig,
        long generation) {
    private static final String WORKLOAD_SET_PREFIX = "cluster/";

    public static String purpose(String cluster) {
        return "kubeconfig of cluster " + cluster;
    }

    /** The key of the cluster's exported endpoints among the workload sets. */
    public static String workloadSetKey(String cluster) {
        return WORKLOAD_SET_PREFIX + cluster;
    }

    /**
     * Whether a workload set's key is one a connector writes for what it read from a member (a Kubernetes cluster,
     * a Consul datacenter); the rest are keyed by the SPIFFE ID of the agent that reported. Such instances are
     * dialled at their address (checked against the member's CIDRs when read), not through an agent's inbound.
     */
    public static boolean isConnectorWorkloadSetKey(String key) {
        return key.startsWith(WORKLOAD_SET_PREFIX) || ConsulRecord.connectorPrefixes().stream().anyMatch(key::startsWith);
    }
}
