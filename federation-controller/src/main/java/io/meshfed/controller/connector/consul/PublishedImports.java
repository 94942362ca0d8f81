package io.meshfed.controller.connector.consul;

import io.meshfed.api.ConsulNames;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.OutboundListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a Consul member must hold for the federated services it imports, from its snapshot (the one its gateways
 * get): per imported service port, one external service instance on the synthetic node
 * {@code meshfed-gateway-<network>} at the network's east-west gateway and the outbound listen port the controller
 * allocated for it. The Consul name is {@code <name>-<namespace>} (Consul DNS {@code hello-demo.service.consul});
 * every registration is tagged {@link ConsulCatalogWatch#IMPORT_TAG} and carries the federated name and port and
 * the member in its meta. Two federated services that would share a Consul name ({@code hello.demo-prod} and
 * {@code hello-demo.prod}) are both left out and reported: a name must mean one service. Pure.
 */
final class PublishedImports {
    static final String SERVICE_META = "meshfed-service";
    static final String PORT_META = "meshfed-service-port";
    static final String MEMBER_META = "meshfed-member";

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

    /** The registrations, sorted by ID, and the Consul names left out because two services would share them. */
    record Desired(List<Registration> registrations, Map<String, Set<String>> collisions) {
        Desired {
            registrations = List.copyOf(registrations);
            collisions = Map.copyOf(collisions);
        }
    }

    static String node(String network) {
        return ConsulNames.node(network);
    }

    /** What {@code member} must publish; nothing when the network has no gateway host to point at. */
    static Desired desired(ConfigSnapshot snapshot, String gatewayHost, String member) {
        if (gatewayHost.isEmpty()) {
            return new Desired(List.of(), Map.of());
        }
        Map<String, Set<String>> services = new TreeMap<>(); // Consul name -> federated services under it
        for (OutboundListener l : snapshot.getOutboundList()) {
            services.computeIfAbsent(ConsulNames.service(l.getService(), l.getNamespace()), k -> new TreeSet<>())
                    .add(l.getService() + "." + l.getNamespace());
        }
        Map<String, Registration> out = new TreeMap<>();
        for (OutboundListener l : snapshot.getOutboundList()) {
            String name = ConsulNames.service(l.getService(), l.getNamespace());
            if (services.get(name).size() > 1) {
                continue;
            }
            String id = "meshfed-import-" + name + "-" + l.getServicePort();
            out.put(id, new Registration(id, name, gatewayHost, l.getListenPort(),
                    List.of(ConsulCatalogWatch.IMPORT_TAG, "port-" + l.getServicePort()),
                    Map.of(SERVICE_META, l.getService() + "." + l.getNamespace(),
                            PORT_META, Integer.toString(l.getServicePort()), MEMBER_META, member)));
        }
        Map<String, Set<String>> collisions = new TreeMap<>();
        services.forEach((name, of) -> {
            if (of.size() > 1) {
                collisions.put(name, Set.copyOf(of));
            }
        });
        return new Desired(new ArrayList<>(out.values()), collisions);
    }
}
