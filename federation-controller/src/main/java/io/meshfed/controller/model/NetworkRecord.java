package io.meshfed.controller.model;

import java.util.List;

/**
 * A network (address space). {@code gatewayAddress} is its east-west gateway, host:port, or empty when unknown.
 * {@code gatewayMembers} are the members the admin named (or the first member added) whose joined east-west
 * gateways are the network's gateways; empty in records written before the list existed, which gives the network
 * no gateway until the admin names one. {@code tunnelAddress} is the tunnel listener behind the admin's
 * {@code gatewayAddress} (empty: none, or not known; records written before it existed read as empty).
 */
public record NetworkRecord(String name, String gatewayAddress, List<String> gatewayMembers, String tunnelAddress) {
    public NetworkRecord {
        gatewayAddress = gatewayAddress == null ? "" : gatewayAddress;
        gatewayMembers = gatewayMembers == null ? List.of() : List.copyOf(gatewayMembers);
        tunnelAddress = tunnelAddress == null ? "" : tunnelAddress;
    }

    /** A network without a tunnel address of the admin's. */
    public NetworkRecord(String name, String gatewayAddress, List<String> gatewayMembers) {
        this(name, gatewayAddress, gatewayMembers, "");
    }

    public NetworkRecord withGatewayMembers(List<String> members) {
        return new NetworkRecord(name, gatewayAddress, members, tunnelAddress);
    }

    /** Without {@code member} among the gateway members (the member is being removed). */
    public NetworkRecord withoutGatewayMember(String member) {
        return withGatewayMembers(gatewayMembers.stream().filter(m -> !m.equals(member)).toList());
    }
}
