package io.meshfed.controller.model;

/** The local port gateways and agents open for one port of one service; allocated once, stable across restarts. */
public record PortAllocationRecord(String service, String namespace, int servicePort, int listenPort) {
    public static String key(String service, String namespace, int servicePort) {
        return servicePort + "." + service + "." + namespace;
    }
}
