package io.meshfed.controller.connector.consul;

import io.meshfed.api.ConsulNames;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.OutboundListener;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a Consul member must hold for the federated services it imports, from its snapshot (the one its gateways
 * get): per imported service port, one external service instance on the synthetic node
 * {@code meshfed-gateway-<network>} at the network's east-west gateway and the outbound listen port the controller
 * allocated for it. The Consul name is {@code <name>-<namespace>} (Consul DNS {@code hello-demo.service.consul});
 * every registration is tagged {@link ConsulCatalogWatch#IMPORT_TAG} and carries the federated name and port in
 * its meta. Pure.
 */
final class PublishedImports {
    static final String SERVICE_META = "meshfed-service";
    static final String PORT_META = "meshfed-service-port";

    private PublishedImports() {
    }

    /** One registration: its ID is stable for the same service port, so an update replaces it in place. */
    record Registration(String id, String name, String address, int port, List<String> tags,
            Map<String, String> meta) {
        Registration {
            tags = List.copyOf(tags);
            meta = Map.copyOf(meta);
        }
    }

    static String node(String network) {
        return ConsulNames.node(network);
    }

    /** The registrations, sorted by ID; none when the network has no gateway host to point at. */
    static List<Registration> desired(ConfigSnapshot snapshot, String gatewayHost) {
        if (gatewayHost.isEmpty()) {
            return List.of();
        }
        Map<String, Registration> out = new TreeMap<>();
        for (OutboundListener l : snapshot.getOutboundList()) {
            String name = ConsulNames.service(l.getService(), l.getNamespace());
            String id = "meshfed-import-" + name + "-" + l.getServicePort();
            out.put(id, new Registration(id, name, gatewayHost, l.getListenPort(),
                    List.of(ConsulCatalogWatch.IMPORT_TAG, "port-" + l.getServicePort()),
                    Map.of(SERVICE_META, l.getService() + "." + l.getNamespace(),
                            PORT_META, Integer.toString(l.getServicePort()))));
        }
        List<Registration> list = new ArrayList<>(out.values());
        list.sort(Comparator.comparing(Registration::id));
        return list;
    }
}
