package io.meshfed.controller.model;

/**
 * The local port that subscribers in {@code network} open for one port of one service they import; allocated per
 * importing network, stable (across restarts too) while the import exists. Two networks may give the same listen port
 * to different service ports. {@code network} is null in records written when one global range served every network
 * (keyed {@code port.name.namespace}); {@code PortAllocations} converts those at start.
 */
public record PortAllocationRecord(String network, String service, String namespace, int servicePort,
        int listenPort) {
    /** The key of a service port, {@code port.name.namespace}, as every network's allocation names it. */
    public static String key(String service, String namespace, int servicePort) {
        return servicePort + "." + service + "." + namespace;
    }

    /** The store name of a network's allocation: {@code network/port.name.namespace}. */
    public static String key(String network, String servicePortKey) {
        return network + "/" + servicePortKey;
    }

    /** Whether the record was written with one global range (no network). */
    public boolean global() {
        return network == null;
    }

    /** The key of its service port, {@code port.name.namespace}. */
    public String servicePortKey() {
        return key(service, namespace, servicePort);
    }
}
