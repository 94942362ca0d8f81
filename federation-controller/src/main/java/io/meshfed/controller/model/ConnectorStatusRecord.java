package io.meshfed.controller.model;

import java.util.Map;

/**
 * The state of every connector of one member kind, as the leader replica that runs them last published it (each
 * member's state as proto3 JSON), so that every replica's status and list calls show it.
 */
public record ConnectorStatusRecord(Map<String, String> states, long publishedAtMillis) {
    public ConnectorStatusRecord {
        states = states == null ? Map.of() : Map.copyOf(states);
    }
}
