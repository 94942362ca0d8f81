package io.meshfed.controller.model;

/** The kinds of resource the controller stores, each with its record type. */
public enum Kind {
    NETWORK("Network", NetworkRecord.class),
    MEMBER("Member", MemberRecord.class),
    JOIN_TOKEN("JoinToken", JoinTokenRecord.class),
    GATEWAY("Gateway", GatewayRecord.class),
    WORKLOADS("WorkloadSet", WorkloadSetRecord.class),
    EXPORT("Export", ExportRecord.class),
    CALLER_POLICY("CallerPolicy", CallerPolicyRecord.class),
    PORT("PortAllocation", PortAllocationRecord.class),
    PORT_SHORTFALL("PortShortfall", PortShortfallRecord.class),
    ROUTE("Route", RouteRecord.class),
    CLUSTER("Cluster", ClusterRecord.class),
    CONSUL("Consul", ConsulRecord.class),
    IDENTITY("Identity", IdentityRecord.class),
    POD_IDENTITIES("PodIdentities", PodIdentitiesRecord.class),
    ROTATION("Rotation", RotationRecord.class),
    FEDERATION("Federation", FederationRecord.class),
    META("Meta", MetaRecord.class),
    LEASE("Lease", LeaseRecord.class),
    REPLICA("Replica", ReplicaRecord.class),
    CONNECTOR_STATUS("ConnectorStatus", ConnectorStatusRecord.class);

    private final String storeName;
    private final Class<?> type;

    Kind(String storeName, Class<?> type) {
        this.storeName = storeName;
        this.type = type;
    }

    /** The kind's name in the store. */
    public String storeName() {
        return storeName;
    }

    public Class<?> type() {
        return type;
    }
}
