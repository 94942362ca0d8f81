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
import java.util.TreeMap;

/**
 * Keeps a Consul datacenter's registrations of one member's imports equal to what {@link PublishedImports} wants:
 * the synthetic node (an external node, so no agent checks it), a registration per service port added or updated
 * when it differs, removed when the import ended. Each registration stands alone: one the token may not write is
 * reported and the others still go through. A name the datacenter already uses for its own service (instances on
 * other nodes) is never published: its clients would be mixed with meshfed's listener. What it registered before
 * is found again on its node by the {@link ConsulCatalogWatch#IMPORT_TAG} tag and its member meta ({@link #forget()}
 * makes the next apply read Consul again, so a registration lost there comes back); another member's registrations
 * on the same node are left alone. Not thread-safe: one connector's executor calls it.
 */
final class ImportPublisher {
    private final ConsulClient client;
    private final String token;
    private final String datacenter;
    private final String node;
    private final String network;
    private final String member;
    /** ID to what is registered; null until read from Consul. */
    private Map<String, PublishedImports.Registration> applied;
    /**
     * IDs this publisher registered and has not removed since: kept through {@link #forget()}, so that a read of
     * Consul that misses one (it has been seen to) cannot leave an ended import registered.
     */
    private final Set<String> registeredHere = new HashSet<>();
    private String nodeAddress;

    /** What an apply did: writes and removals made, and per Consul name why it is not published. */
    record Outcome(int changes, Map<String, String> refused) {
        Outcome {
            refused = Map.copyOf(refused);
        }
    }

    ImportPublisher(ConsulClient client, String token, String datacenter, String network, String member) {
        this.client = client;
        this.token = token == null || token.isEmpty() ? null : token;
        this.datacenter = datacenter;
        this.network = network;
        this.member = member;
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

    /** The next apply reads what is registered from Consul again. */
    void forget() {
        applied = null;
    }

    /** Makes Consul hold exactly {@code desired} (as far as the token allows). */
    Outcome apply(List<PublishedImports.Registration> desired, String gatewayHost) {
        if (applied == null) {
            applied = registeredBefore();
        }
        int changes = 0;
        Map<String, String> refused = new TreeMap<>();
        if (!desired.isEmpty() && !gatewayHost.equals(nodeAddress)) {
            registerNode(gatewayHost);
            changes++;
        }
        Set<String> wanted = new HashSet<>();
        Map<String, Boolean> nativeNames = new HashMap<>();
        for (PublishedImports.Registration d : desired) {
            if (d.equals(applied.get(d.id()))) {
                wanted.add(d.id());
                continue;
            }
            try {
                boolean nativeName = nativeNames.computeIfAbsent(d.name(), this::usedElsewhere);
                if (nativeName) {
                    refused.put(d.name(), "the datacenter has its own service named '" + d.name() + "' on other"
                            + " nodes; " + d.meta().get(PublishedImports.SERVICE_META) + " is not published under it");
                    continue;
                }
                register(d, gatewayHost);
                applied.put(d.id(), d);
                registeredHere.add(d.id());
                wanted.add(d.id());
                changes++;
            } catch (RuntimeException e) {
                refused.put(d.name(), "registering " + d.id() + ": " + ConsulCatalogWatch.reason(e));
                if (applied.containsKey(d.id())) {
                    wanted.add(d.id()); // the older registration stays rather than nothing
                }
            }
        }
        Set<String> held = new java.util.TreeSet<>(applied.keySet());
        held.addAll(registeredHere);
        for (String id : held) {
            if (!wanted.contains(id)) {
                PublishedImports.Registration was = applied.get(id);
                try {
                    deregister(id);
                    changes++;
                } catch (RuntimeException e) {
                    refused.put(was == null ? id : was.name(), "deregistering " + id + ": "
                            + ConsulCatalogWatch.reason(e));
                }
            }
        }
        return new Outcome(changes, refused);
    }

    /** Removes every registration of this member, and the node once no other member's remain on it. */
    void removeAll() {
        List<CatalogService> onNode = onNode();
        applied = ours(onNode);
        for (String id : List.copyOf(applied.keySet())) {
            deregister(id);
        }
        if (onNode.stream().anyMatch(s -> !member.equals(memberOf(s)))) {
            return; // another member's registrations remain on the node
        }
        CatalogDeregistration r = new CatalogDeregistration();
        r.setDatacenter(datacenter);
        r.setNode(node);
        client.catalogDeregister(r, token);
        nodeAddress = null;
    }

    private void register(PublishedImports.Registration d, String gatewayHost) {
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
    }

    private void deregister(String id) {
        CatalogDeregistration r = new CatalogDeregistration();
        r.setDatacenter(datacenter);
        r.setNode(node);
        r.setServiceId(id);
        try {
            client.catalogDeregister(r, token);
        } catch (com.ecwid.consul.v1.OperationException e) {
            if (e.getStatusCode() != 404) {
                throw e;
            } // gone already
        }
        applied.remove(id);
        registeredHere.remove(id);
    }

    /** Whether the datacenter has instances of {@code name} on nodes other than meshfed's own. */
    private boolean usedElsewhere(String name) {
        return instances(name).stream().anyMatch(s -> !node.equals(s.getNode()));
    }

    private List<CatalogService> instances(String name) {
        List<CatalogService> found = client.getCatalogService(name, QueryParams.Builder.builder()
                .setDatacenter(datacenter).build(), token).getValue();
        return found == null ? List.of() : found;
    }

    /** This member's registrations on its node, as Consul holds them now. */
    private Map<String, PublishedImports.Registration> registeredBefore() {
        return ours(onNode());
    }

    private static String memberOf(CatalogService s) {
        return s.getServiceMeta() == null ? null : s.getServiceMeta().get(PublishedImports.MEMBER_META);
    }

    /** Of the registrations on the node, this member's, by ID. */
    private Map<String, PublishedImports.Registration> ours(List<CatalogService> onNode) {
        Map<String, PublishedImports.Registration> found = new HashMap<>();
        for (CatalogService s : onNode) {
            if (!member.equals(memberOf(s))) {
                continue;
            }
            Map<String, String> meta = s.getServiceMeta();
            nodeAddress = s.getAddress();
            found.put(s.getServiceId(), new PublishedImports.Registration(s.getServiceId(), s.getServiceName(),
                    s.getServiceAddress(), s.getServicePort() == null ? 0 : s.getServicePort(),
                    s.getServiceTags() == null ? List.of() : s.getServiceTags(), meta));
        }
        return found;
    }

    /** Every registration on this node tagged as meshfed's, whichever member made it. */
    private List<CatalogService> onNode() {
        Map<String, List<String>> services = client.getCatalogServices(QueryParams.Builder.builder()
                .setDatacenter(datacenter).build(), token).getValue();
        List<CatalogService> out = new java.util.ArrayList<>();
        for (Map.Entry<String, List<String>> e : services.entrySet()) {
            if (e.getValue() == null || !e.getValue().contains(ConsulCatalogWatch.IMPORT_TAG)) {
                continue;
            }
            for (CatalogService s : instances(e.getKey())) {
                if (node.equals(s.getNode())) {
                    out.add(s);
                }
            }
        }
        return out;
    }
}
