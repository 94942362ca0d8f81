package io.meshfed.controller.model;

/** A network (address space). {@code gatewayAddress} is its east-west gateway, host:port, or empty when unknown. */
public record NetworkRecord(String name, String gatewayAddress) {
    public NetworkRecord {
        gatewayAddress = gatewayAddress == null ? "" : gatewayAddress;
    }
}
