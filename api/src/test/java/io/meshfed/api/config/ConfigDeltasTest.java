package io.meshfed.api.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.meshfed.api.v1.AttestedSource;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.BundleSet;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.NetworkGateway;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.SnapshotPart;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * A subscriber that applies deltas holds exactly what whole snapshots would give it: on random sequences of catalog
 * changes, applied one by one and coalesced (a slow subscriber's delta spans many changes).
 */
class ConfigDeltasTest {
    private static final List<String> NAMESPACES = List.of("a", "a-b", "shop", "z");
    private static final List<String> NAMES = List.of("billing", "cart", "ledger", "web", "web-2");
    private static final List<String> NETWORKS = List.of("east", "west", "legacy");

    /** A catalog as a test can change it: what a snapshot is built from. */
    private static final class Catalog {
        final Map<String, List<Endpoint>> endpoints = new TreeMap<>(); // "namespace/name" -> endpoints
        final Map<String, List<String>> allowed = new TreeMap<>(); // "namespace/name" -> trust domains
        final TreeSet<String> revoked = new TreeSet<>();
        final TreeSet<String> attested = new TreeSet<>();
        final Map<String, String> gateways = new TreeMap<>();
        long bundleVersion = 1;
        ByteString issuerRoot = ByteString.EMPTY;

        /** The whole snapshot, sorted as the controller sorts it, with its content version. */
        ConfigSnapshot snapshot() {
            ConfigSnapshot.Builder s = ConfigSnapshot.newBuilder().setMember("west").setNetwork("west")
                    .setBundles(BundleSet.newBuilder().setVersion(bundleVersion))
                    .addAllRevokedIdentities(revoked).setSvidIssuerRoot(issuerRoot);
            TreeMap<String[], String> keys = new TreeMap<>((x, y) -> x[0].equals(y[0]) ? x[1].compareTo(y[1])
                    : x[0].compareTo(y[0]));
            endpoints.keySet().forEach(k -> keys.put(k.split("/"), k));
            allowed.keySet().forEach(k -> keys.put(k.split("/"), k));
            keys.forEach((parts, k) -> {
                List<Endpoint> eps = endpoints.getOrDefault(k, List.of());
                if (!eps.isEmpty()) {
                    s.addServices(Service.newBuilder().setNamespace(parts[0]).setName(parts[1])
                            .addNetworks(NetworkEndpoints.newBuilder().setNetwork("west").setLocal(true)
                                    .addAllEndpoints(eps).setHealthyEndpoints(eps.size()))
                            .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").addRoutes(
                                    GatewayRoute.newBuilder().setPort(eps.get(0).getPort())
                                            .setGatewayAddress("10.9.0.1:15443"))));
                    s.addOutbound(OutboundListener.newBuilder().setNamespace(parts[0]).setService(parts[1])
                            .setServicePort(eps.get(0).getPort()).setListenPort(20000 + Math.abs(k.hashCode() % 900)));
                    s.addOutbound(OutboundListener.newBuilder().setNamespace(parts[0]).setService(parts[1])
                            .setServicePort(eps.get(0).getPort() + 1).setListenPort(21000));
                }
                if (allowed.containsKey(k)) {
                    s.addAuthorization(AuthorizationPolicy.newBuilder().setNamespace(parts[0]).setService(parts[1])
                            .addAllAllowedTrustDomains(allowed.get(k)));
                }
            });
            gateways.forEach((n, a) -> s.addGateways(NetworkGateway.newBuilder().setNetwork(n).setAddress(a)));
            attested.forEach(a -> s.addAttestedSources(AttestedSource.newBuilder().setAddress(a)
                    .setIdentity("spiffe://west.acme.mesh/ns/shop/sa/" + a.hashCode())));
            return s.setVersion(ConfigVersion.of(s.build())).build();
        }

        /** One random change, of the kinds a federation sees. */
        void change(Random r) {
            String key = NAMESPACES.get(r.nextInt(NAMESPACES.size())) + "/" + NAMES.get(r.nextInt(NAMES.size()));
            switch (r.nextInt(9)) {
                case 0, 1, 2 -> { // an endpoint comes, goes or changes
                    List<Endpoint> eps = new ArrayList<>(endpoints.getOrDefault(key, List.of()));
                    if (!eps.isEmpty() && r.nextBoolean()) {
                        eps.remove(r.nextInt(eps.size()));
                    } else {
                        eps.add(Endpoint.newBuilder().setAddress("10.0." + r.nextInt(4) + "." + r.nextInt(250))
                                .setPort(8080).setMember("west").setWeight(1 + r.nextInt(3)).build());
                    }
                    if (eps.isEmpty()) {
                        endpoints.remove(key);
                    } else {
                        endpoints.put(key, eps);
                    }
                }
                case 3 -> endpoints.remove(key); // a service goes
                case 4 -> { // an export's audience changes
                    if (allowed.containsKey(key) && r.nextBoolean()) {
                        allowed.remove(key);
                    } else {
                        allowed.put(key, List.of("east.acme.mesh", r.nextBoolean() ? "west.acme.mesh" : "z.acme.mesh"));
                    }
                }
                case 5 -> bundleVersion++;
                case 6 -> {
                    String id = "spiffe://east.acme.mesh/ns/shop/sa/" + r.nextInt(5);
                    if (!revoked.remove(id)) {
                        revoked.add(id);
                    }
                }
                case 7 -> {
                    String n = NETWORKS.get(r.nextInt(NETWORKS.size()));
                    if (gateways.containsKey(n) && r.nextBoolean()) {
                        gateways.remove(n);
                    } else {
                        gateways.put(n, "10.1." + r.nextInt(9) + ".1:15443");
                    }
                }
                default -> {
                    String a = "10.2.0." + r.nextInt(20);
                    if (!attested.remove(a)) {
                        attested.add(a);
                    }
                    issuerRoot = r.nextInt(4) == 0 ? ByteString.copyFromUtf8("root-" + r.nextInt(3)) : issuerRoot;
                }
            }
        }
    }

    @Test
    void aSubscriberApplyingDeltasHoldsWhatWholeSnapshotsWouldGiveOnRandomChangeSequences() throws Exception {
        for (long seed = 1; seed <= 200; seed++) {
            Random r = new Random(seed);
            Catalog catalog = new Catalog();
            List<ConfigSnapshot> versions = new ArrayList<>();
            versions.add(catalog.snapshot());
            ConfigSnapshot held = versions.get(0);
            for (int step = 0; step < 40; step++) {
                for (int n = 1 + r.nextInt(3); n > 0; n--) {
                    catalog.change(r);
                }
                ConfigSnapshot whole = catalog.snapshot();
                ConfigSnapshot delta = ConfigDeltas.between(held, whole);
                held = ConfigDeltas.apply(held, delta);
                assertThat(held).as("seed %d, step %d", seed, step).isEqualTo(whole);
                versions.add(whole);
            }
            // A slow subscriber: one delta across many changes.
            int from = r.nextInt(versions.size());
            int to = r.nextInt(versions.size());
            ConfigSnapshot coalesced = ConfigDeltas.between(versions.get(from), versions.get(to));
            assertThat(ConfigDeltas.apply(versions.get(from), coalesced)).as("seed %d: %d to %d", seed, from, to)
                    .isEqualTo(versions.get(to));
        }
    }

    @Test
    void aDeltaCarriesOnlyWhatChanged() throws Exception {
        Catalog catalog = new Catalog();
        for (String ns : NAMESPACES) {
            for (String name : NAMES) {
                catalog.endpoints.put(ns + "/" + name, List.of(Endpoint.newBuilder().setAddress("10.0.0.1")
                        .setPort(8080).build()));
            }
        }
        ConfigSnapshot before = catalog.snapshot();
        catalog.endpoints.put("shop/cart", List.of(Endpoint.newBuilder().setAddress("10.0.0.2").setPort(8080).build()));
        catalog.endpoints.remove("z/web");
        ConfigSnapshot after = catalog.snapshot();

        ConfigSnapshot delta = ConfigDeltas.between(before, after);
        assertThat(delta.getDelta().getBaseVersion()).isEqualTo(before.getVersion());
        assertThat(delta.getVersion()).isEqualTo(after.getVersion());
        assertThat(delta.getDelta().getServicesList()).singleElement().satisfies(s -> {
            assertThat(s.getNamespace() + "/" + s.getName()).isEqualTo("shop/cart");
            assertThat(s.getOutboundCount()).isEqualTo(2);
        });
        assertThat(delta.getDelta().getRemovedServicesList()).singleElement()
                .satisfies(s -> assertThat(s.getNamespace() + "/" + s.getName()).isEqualTo("z/web"));
        assertThat(delta.getDelta().getReplacedList()).isEmpty();
        assertThat(delta.hasBundles()).isFalse();
        assertThat(delta.getSerializedSize()).isLessThan(after.getSerializedSize() / 5);

        catalog.bundleVersion++;
        ConfigSnapshot rotated = catalog.snapshot();
        assertThat(ConfigDeltas.between(after, rotated).getDelta().getReplacedList())
                .containsExactly(SnapshotPart.BUNDLES);
    }

    @Test
    void aDeltaForAnotherVersionOrThatDoesNotGiveItsVersionIsRefusedWithTheReason() {
        Catalog catalog = new Catalog();
        catalog.endpoints.put("shop/cart", List.of(Endpoint.newBuilder().setAddress("10.0.0.1").setPort(80).build()));
        ConfigSnapshot v1 = catalog.snapshot();
        catalog.revoked.add("spiffe://east.acme.mesh/ns/shop/sa/x");
        ConfigSnapshot v2 = catalog.snapshot();
        catalog.endpoints.remove("shop/cart");
        ConfigSnapshot v3 = catalog.snapshot();

        ConfigSnapshot v2to3 = ConfigDeltas.between(v2, v3);
        assertThatThrownBy(() -> ConfigDeltas.apply(v1, v2to3)).isInstanceOf(ConfigDeltas.Mismatch.class)
                .hasMessage("a delta to version " + v3.getVersion() + " from version " + v2.getVersion()
                        + ", but this subscriber holds version '" + v1.getVersion() + "'");
        assertThatThrownBy(() -> ConfigDeltas.apply(null, v2to3)).isInstanceOf(ConfigDeltas.Mismatch.class)
                .hasMessageEndingWith("holds version none");

        ConfigSnapshot tampered = v2to3.toBuilder().setDelta(v2to3.getDelta().toBuilder().clearRemovedServices())
                .build();
        assertThatThrownBy(() -> ConfigDeltas.apply(v2, tampered)).isInstanceOf(ConfigDeltas.Mismatch.class)
                .hasMessageStartingWith("the delta to version " + v3.getVersion() + " gives content of version ");
    }

    @Test
    void aWholeSnapshotIsTakenAsItIs() throws Exception {
        ConfigSnapshot whole = new Catalog().snapshot().toBuilder().setNonce("n1").build();
        assertThat(ConfigDeltas.apply(null, whole)).isSameAs(whole);
    }
}
