package io.meshfed.api.config;

import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigDelta;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.ServiceRef;
import io.meshfed.api.v1.ServiceResources;
import io.meshfed.api.v1.SnapshotPart;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Deltas of config snapshots (the {@code ConfigSnapshot.delta} contract): {@link #between} is what the controller
 * sends, {@link #apply} what a subscriber does with it. Services, outbound listeners and authorization policies travel
 * per service (everything a snapshot holds for one service replaces what the subscriber held for it); every other
 * part travels whole when it changed. Applying the delta of {@code a} to {@code b} to {@code a} gives exactly
 * {@code b}: the order of a whole snapshot (services by namespace then name, each service's outbound listeners as the
 * controller sorted them) is rebuilt, and the result must hash to the delta's version.
 */
public final class ConfigDeltas {
    /** How services are sorted in a snapshot: by namespace, then name. */
    public static final Comparator<ServiceRef> SERVICE_ORDER = Comparator.comparing(ServiceRef::getNamespace)
            .thenComparing(ServiceRef::getName);

    private ConfigDeltas() {}

    /** The delta cannot be applied to the snapshot the subscriber holds; it should ask for the whole one (NACK). */
    public static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }

    /** A part of a snapshot that is not per service: how to read it and how to copy it into a snapshot. */
    private record Part(SnapshotPart name, Function<ConfigSnapshot, Object> read,
            BiConsumer<ConfigSnapshot, ConfigSnapshot.Builder> copy) {}

    private static final List<Part> PARTS = List.of(
            new Part(SnapshotPart.BUNDLES, ConfigSnapshot::getBundles, (from, to) -> {
                if (from.hasBundles()) {
                    to.setBundles(from.getBundles());
                } else {
                    to.clearBundles();
                }
            }),
            new Part(SnapshotPart.GATEWAYS, ConfigSnapshot::getGatewaysList,
                    (from, to) -> to.clearGateways().addAllGateways(from.getGatewaysList())),
            new Part(SnapshotPart.ROUTES, ConfigSnapshot::getRoutesList,
                    (from, to) -> to.clearRoutes().addAllRoutes(from.getRoutesList())),
            new Part(SnapshotPart.REVOKED_IDENTITIES, ConfigSnapshot::getRevokedIdentitiesList,
                    (from, to) -> to.clearRevokedIdentities().addAllRevokedIdentities(from.getRevokedIdentitiesList())),
            new Part(SnapshotPart.ATTESTED_SOURCES, ConfigSnapshot::getAttestedSourcesList,
                    (from, to) -> to.clearAttestedSources().addAllAttestedSources(from.getAttestedSourcesList())),
            new Part(SnapshotPart.FORWARDING_TRUST_DOMAINS, ConfigSnapshot::getForwardingTrustDomainsList,
                    (from, to) -> to.clearForwardingTrustDomains()
                            .addAllForwardingTrustDomains(from.getForwardingTrustDomainsList())),
            new Part(SnapshotPart.SVID_ISSUER_ROOT, ConfigSnapshot::getSvidIssuerRoot,
                    (from, to) -> to.setSvidIssuerRoot(from.getSvidIssuerRoot())));

    /**
     * What turns {@code from} into {@code to}: a snapshot message with {@code to}'s version, member and network, the
     * parts that changed, and the services that changed or went.
     */
    public static ConfigSnapshot between(ConfigSnapshot from, ConfigSnapshot to) {
        Map<ServiceRef, ServiceResources> before = perService(from);
        Map<ServiceRef, ServiceResources> after = perService(to);
        ConfigDelta.Builder delta = ConfigDelta.newBuilder().setBaseVersion(from.getVersion());
        after.forEach((ref, resources) -> {
            if (!resources.equals(before.get(ref))) {
                delta.addServices(resources);
            }
        });
        before.keySet().stream().filter(ref -> !after.containsKey(ref)).forEach(delta::addRemovedServices);
        ConfigSnapshot.Builder out = ConfigSnapshot.newBuilder().setVersion(to.getVersion())
                .setMember(to.getMember()).setNetwork(to.getNetwork());
        for (Part part : PARTS) {
            if (!part.read().apply(from).equals(part.read().apply(to))) {
                delta.addReplaced(part.name());
                part.copy().accept(to, out);
            }
        }
        return out.setDelta(delta).build();
    }

    /**
     * The whole snapshot {@code received} stands for: itself when it is whole, else {@code held} with the delta
     * applied, carrying the received nonce and subscriber.
     *
     * @param held the whole snapshot the subscriber holds (null: none)
     * @throws Mismatch when the delta is not for {@code held}'s version, or its result does not hash to its version
     */
    public static ConfigSnapshot apply(ConfigSnapshot held, ConfigSnapshot received) throws Mismatch {
        return applied(held, null, received).snapshot();
    }

    /** A whole snapshot, with the layout of its bytes when they were made (null when they were not). */
    record Applied(ConfigSnapshot snapshot, SnapshotBytes.Layout layout) {}

    /**
     * As {@link #apply}; the version is checked over bytes made with {@code heldLayout} (the layout of {@code held}'s
     * bytes, null: none), so the services the delta leaves alone are not serialised again.
     */
    static Applied applied(ConfigSnapshot held, SnapshotBytes.Layout heldLayout, ConfigSnapshot received)
            throws Mismatch {
        if (!received.hasDelta()) {
            return new Applied(received, null);
        }
        ConfigDelta delta = received.getDelta();
        if (held == null || !held.getVersion().equals(delta.getBaseVersion())) {
            throw new Mismatch("a delta to version " + received.getVersion() + " from version "
                    + delta.getBaseVersion() + ", but this subscriber holds version "
                    + (held == null ? "none" : "'" + held.getVersion() + "'"));
        }
        ConfigSnapshot.Builder out = withServices(held, delta.getServicesList(), delta.getRemovedServicesList())
                .setMember(received.getMember()).setNetwork(received.getNetwork()).clearVersion().clearNonce()
                .clearSubscriber().clearDelta();
        for (Part part : PARTS) {
            if (delta.getReplacedList().contains(part.name())) {
                part.copy().accept(received, out);
            }
        }
        ConfigSnapshot content = out.build();
        SnapshotBytes.Serialised bytes = SnapshotBytes.of(content, heldLayout, 0);
        String version = ConfigVersion.ofContent(bytes.bytes());
        if (!version.equals(received.getVersion())) {
            throw new Mismatch("the delta to version " + received.getVersion() + " gives content of version "
                    + version);
        }
        return new Applied(out.setVersion(version).setNonce(received.getNonce())
                .setSubscriber(received.getSubscriber()).build(), bytes.layout());
    }

    /**
     * {@code held} with what it holds for some services replaced (a {@link ServiceResources} without a service,
     * outbound listeners or authorization takes the service out) and others removed, in the order of a whole snapshot;
     * its version is still {@code held}'s.
     */
    public static ConfigSnapshot.Builder withServices(ConfigSnapshot held, Iterable<ServiceResources> replaced,
            Iterable<ServiceRef> removed) {
        Map<ServiceRef, ServiceResources> services = perService(held);
        removed.forEach(services::remove);
        for (ServiceResources r : replaced) {
            services.put(ref(r.getName(), r.getNamespace()), r);
        }
        ConfigSnapshot.Builder out = held.toBuilder().clearServices().clearOutbound().clearAuthorization();
        for (ServiceResources r : services.values()) {
            if (r.hasService()) {
                out.addServices(r.getService());
            }
            out.addAllOutbound(r.getOutboundList());
            if (r.hasAuthorization()) {
                out.addAuthorization(r.getAuthorization());
            }
        }
        return out;
    }

    /** Everything a snapshot holds per service, sorted as snapshots sort services. */
    private static Map<ServiceRef, ServiceResources> perService(ConfigSnapshot s) {
        Map<ServiceRef, ServiceResources.Builder> units = new TreeMap<>(SERVICE_ORDER);
        for (Service x : s.getServicesList()) {
            unit(units, x.getName(), x.getNamespace()).setService(x);
        }
        for (OutboundListener x : s.getOutboundList()) {
            unit(units, x.getService(), x.getNamespace()).addOutbound(x);
        }
        for (AuthorizationPolicy x : s.getAuthorizationList()) {
            unit(units, x.getService(), x.getNamespace()).setAuthorization(x);
        }
        Map<ServiceRef, ServiceResources> out = new TreeMap<>(SERVICE_ORDER);
        units.forEach((ref, b) -> out.put(ref, b.build()));
        return out;
    }

    private static ServiceResources.Builder unit(Map<ServiceRef, ServiceResources.Builder> units, String name,
            String namespace) {
        return units.computeIfAbsent(ref(name, namespace), r -> ServiceResources.newBuilder().setName(name)
                .setNamespace(namespace));
    }

    private static ServiceRef ref(String name, String namespace) {
        return ServiceRef.newBuilder().setName(name).setNamespace(namespace).build();
    }
}
