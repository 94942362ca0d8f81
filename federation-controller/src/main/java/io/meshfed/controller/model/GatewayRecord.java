package io.meshfed.controller.model;

import java.util.List;

/**
 * A joined east-west or edge gateway: its identity, member, network, advertised addresses, readiness, and the
 * tunnel listener it reported ({@code tunnelAddress}, empty when it has none).
 */
public record GatewayRecord(String spiffeId, String role, String member, String network, List<String> addresses,
        boolean ready, String tunnelAddress) {
    public GatewayRecord {
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
        tunnelAddress = tunnelAddress == null ? "" : tunnelAddress;
    }

    /** A gateway that reported no tunnel listener. */
    public GatewayRecord(String spiffeId, String role, String member, String network, List<String> addresses,
            boolean ready) {
        this(spiffeId, role, member, network, addresses, ready, "");
    }

    public GatewayRecord withAddresses(List<String> newAddresses) {
        return new GatewayRecord(spiffeId, role, member, network, newAddresses, ready, tunnelAddress);
    }

    public GatewayRecord withReady(boolean isReady) {
        return new GatewayRecord(spiffeId, role, member, network, addresses, isReady, tunnelAddress);
    }

    public GatewayRecord withTunnelAddress(String address) {
        return new GatewayRecord(spiffeId, role, member, network, addresses, ready, address);
    }
}
