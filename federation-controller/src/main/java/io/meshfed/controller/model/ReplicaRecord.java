package io.meshfed.controller.model;

import java.util.List;

/**
 * One controller replica's presence: the SPIFFE IDs whose config streams it holds, rewritten every few seconds, so
 * that the leader expires an agent only when no live replica holds its stream. {@code renewedAtMillis} is the
 * replica's own clock, for people; liveness is timed by each reader on its own clock, from when it saw it change.
 */
public record ReplicaRecord(String holder, List<String> streams, long renewedAtMillis) {
    public ReplicaRecord {
        streams = streams == null ? List.of() : List.copyOf(streams);
    }
}
