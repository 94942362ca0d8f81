package io.meshfed.controller.connector.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.catalog.model.CatalogDeregistration;
import com.ecwid.consul.v1.catalog.model.CatalogRegistration;
import com.ecwid.consul.v1.catalog.model.CatalogService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps a Consul datacenter's registrations of the member's imports equal to {@link PublishedImports#desired}: the
 * synthetic node (an external node, so no agent checks it), a registration per service port added or updated when
 * it differs, and removed when the import ended. What it registered before a restart is found again on its node by
 * the {@link ConsulCatalogWatch#IMPORT_TAG} tag, so nothing is left behind. Not thread-safe: one connector's
 * executor calls it.
 */
final class ImportPublisher {
    private final ConsulClient client;
    private final String token;
    private final String datacenter;
    private final String node;
    private final String network;
    /** ID to what is registered; null until read from Consul once. */
    private Map<String, PublishedImports.Registration> applied;
    private String nodeAddress;

    ImportPublisher(ConsulClient client, String token, String datacenter, String network) {
        this.client = client;
        this.token = token == null || token.isEmpty() ? null : token;
        this.datacenter = datacenter;
        this.network = network;
        this.node = PublishedImports.node(network);
    }

    String node() {
        return node;
    }

    /** Registers the synthetic node at {@code address}: what join checks the token's node:write with. */
    void registerNode(String address) {
        CatalogRegistration r = new CatalogRegistration();
        r.setDatacenter(datacenter);
        r.setNode(node);
        r.setAddress(address);
        r.setNodeMeta(Map.of("external-node", "true", "external-probe", "false", "meshfed-network", network));
        client.catalogRegister(r, token);
        nodeAddress = address;
    }

    /** Makes Consul hold exactly {@code desired}; returns how many registrations it wrote or removed. */
    int apply(List<PublishedImports.Registration> desired, String gatewayHost) {
        if (applied == null) {
            applied = registeredBefore();
        }
        int changes = 0;
        if (!desired.isEmpty() && !gatewayHost.equals(nodeAddress)) {
            registerNode(gatewayHost);
            changes++;
        }
        Set<String> wanted = new HashSet<>();
        for (PublishedImports.Registration d : desired) {
            wanted.add(d.id());
            if (d.equals(applied.get(d.id()))) {
                continue;
            }
            CatalogRegistration r = new CatalogRegistration();
            r.setDatacenter(datacenter);
            r.setNode(node);
            r.setAddress(gatewayHost);
            r.setSkipNodeUpdate(true);
            CatalogRegistration.Service s = new CatalogRegistration.Service();
            s.setId(d.id());
            s.setService(d.name());
            s.setAddress(d.address());
            s.setPort(d.port());
            s.setTags(d.tags());
            s.setMeta(d.meta());
            r.setService(s);
            client.catalogRegister(r, token);
            applied.put(d.id(), d);
            changes++;
        }
        for (String id : List.copyOf(applied.keySet())) {
            if (!wanted.contains(id)) {
                deregister(id);
                changes++;
            }
        }
        return changes;
    }

    /** Removes every registration it made, and the node once it holds none (the member leaves). */
    void removeAll() {
        apply(List.of(), "");
        CatalogDeregistration r = new CatalogDeregistration();
        r.setDatacenter(datacenter);
        r.setNode(node);
        client.catalogDeregister(r, token);
        nodeAddress = null;
    }

    private void deregister(String id) {
        CatalogDeregistration r = new CatalogDeregistration();
        r.setDatacenter(datacenter);
        r.setNode(node);
        r.setServiceId(id);
        client.catalogDeregister(r, token);
        applied.remove(id);
    }

    /** The registrations on this node tagged as meshfed's, as Consul holds them now. */
    private Map<String, PublishedImports.Registration> registeredBefore() {
        Map<String, PublishedImports.Registration> found = new HashMap<>();
        Map<String, List<String>> services = client.getCatalogServices(QueryParams.Builder.builder()
                .setDatacenter(datacenter).build(), token).getValue();
        for (Map.Entry<String, List<String>> e : services.entrySet()) {
            if (e.getValue() == null || !e.getValue().contains(ConsulCatalogWatch.IMPORT_TAG)) {
                continue;
            }
            for (CatalogService s : client.getCatalogService(e.getKey(), QueryParams.Builder.builder()
                    .setDatacenter(datacenter).build(), token).getValue()) {
                if (node.equals(s.getNode())) {
                    nodeAddress = s.getAddress();
                    found.put(s.getServiceId(), new PublishedImports.Registration(s.getServiceId(),
                            s.getServiceName(), s.getServiceAddress(), s.getServicePort() == null ? 0
                                    : s.getServicePort(), s.getServiceTags() == null ? List.of()
                                            : s.getServiceTags(), s.getServiceMeta() == null ? Map.of()
                                                    : s.getServiceMeta()));
                }
            }
        }
        return found;
    }
}
