package io.meshfed.controller.model;

import java.util.List;

/** A joined east-west or edge gateway: its identity, member, network, advertised addresses and readiness. */
public record GatewayRecord(String spiffeId, String role, String member, String network, List<String> addresses,
        boolean ready) {
    public GatewayRecord {
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
    }

    public GatewayRecord withAddresses(List<String> newAddresses) {
        return new GatewayRecord(spiffeId, role, member, network, newAddresses, ready);
    }

    public GatewayRecord withReady(boolean isReady) {
        return new GatewayRecord(spiffeId, role, member, network, addresses, isReady);
    }
}
