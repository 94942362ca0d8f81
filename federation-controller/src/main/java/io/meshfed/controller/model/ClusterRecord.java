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

    /** Whether a workload set's key is a cluster's (the rest are keyed by the SPIFFE ID of the agent that reported). */
    public static boolean isWorkloadSetKey(String key) {
        return key.startsWith(WORKLOAD_SET_PREFIX);
    }
}
