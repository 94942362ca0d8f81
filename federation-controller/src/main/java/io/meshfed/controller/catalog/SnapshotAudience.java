package io.meshfed.controller.catalog;

import io.meshfed.controller.model.MemberRecord;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;

/**
 * Who a config snapshot is for, from the role of the subscriber's SPIFFE ID: some parts of a snapshot go to one
 * role only, so subscribers of one member and network share a snapshot only when they share the audience.
 */
public enum SnapshotAudience {
    /** An east-west gateway: also the pods of its own member that it may attest ({@code attested_sources}). */
    EAST_WEST_GATEWAY,
    /** An edge gateway: also the routes. */
    EDGE_GATEWAY,
    /** Anyone else (agents): neither. */
    OTHER;

    /** The audience of a subscriber with ID {@code id}. */
    public static SnapshotAudience of(SpiffeId id) {
        return MeshfedIds.roleOf(id).map(r -> switch (r) {
            case GATEWAY -> EAST_WEST_GATEWAY;
            case EDGE -> EDGE_GATEWAY;
            default -> OTHER;
        }).orElse(OTHER);
    }

    /**
     * The audience whose snapshot a subscriber of {@code member} gets: an east-west gateway's is an agent's unless
     * the member is a Kubernetes member (only those have pods to attest), so they share one serialisation.
     */
    public SnapshotAudience of(MemberRecord member) {
        return this == EAST_WEST_GATEWAY && !io.meshfed.controller.model.MemberType.of(member).gatewayAttestsSources()
                ? OTHER : this;
    }
}
