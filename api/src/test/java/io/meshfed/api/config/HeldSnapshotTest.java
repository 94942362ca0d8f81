package io.meshfed.api.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A held snapshot that applies deltas with its bytes' layout gives exactly what {@link ConfigDeltas#apply} gives,
 * delta after delta (each applied to the previous result, whose layout the next reuses), and refuses what it refuses.
 */
class HeldSnapshotTest {
    private static ConfigSnapshot snapshot(Random random, int services) {
        ConfigSnapshot.Builder b = ConfigSnapshot.newBuilder().setMember("west").setNetwork("west");
        for (int n = 0; n < services; n++) {
            if (random.nextInt(4) == 0) {
                continue;
            }
            NetworkEndpoints.Builder endpoints = NetworkEndpoints.newBuilder().setNetwork("west").setLocal(true);
            int count = 1 + random.nextInt(3);
            for (int i = 0; i < count; i++) {
                endpoints.addEndpoints(Endpoint.newBuilder().setAddress("10.0." + n + "." + random.nextInt(4))
                        .setPort(8080));
            }
            b.addServices(Service.newBuilder().setName(String.format("svc%02d", n)).setNamespace("ns") // sorted
                    .addNetworks(endpoints.setHealthyEndpoints(count)));
        }
        if (random.nextBoolean()) {
            b.addRevokedIdentities("spiffe://west.acme.mesh/ns/a/vm/" + random.nextInt(3));
        }
        ConfigSnapshot content = b.build();
        return content.toBuilder().setVersion(ConfigVersion.of(content)).build();
    }

    @Test
    void deltaAfterDeltaItHoldsWhatApplyGives() throws Exception {
        for (long seed = 1; seed <= 40; seed++) {
            Random random = new Random(seed);
            List<ConfigSnapshot> versions = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                versions.add(snapshot(random, 20));
            }
            HeldSnapshot held = HeldSnapshot.of(versions.get(0));
            ConfigSnapshot plain = versions.get(0);
            for (int i = 1; i < versions.size(); i++) {
                ConfigSnapshot delta = ConfigDeltas.between(versions.get(i - 1), versions.get(i)).toBuilder()
                        .setNonce("n" + i).build();
                held = HeldSnapshot.apply(held, delta);
                plain = ConfigDeltas.apply(plain, delta);
                assertThat(held.snapshot()).as("seed %d step %d", seed, i).isEqualTo(plain);
                assertThat(held.snapshot().toBuilder().clearNonce().build()).isEqualTo(versions.get(i));
            }
        }
    }

    @Test
    void aWholeSnapshotReplacesWhatItHeldAndAForeignDeltaIsRefused() throws Exception {
        Random random = new Random(3);
        ConfigSnapshot a = snapshot(random, 10);
        ConfigSnapshot b = snapshot(random, 10);
        ConfigSnapshot c = snapshot(random, 10);
        HeldSnapshot held = HeldSnapshot.apply(null, a);
        assertThat(held.snapshot()).isEqualTo(a);
        ConfigSnapshot bToC = ConfigDeltas.between(b, c);
        assertThatThrownBy(() -> HeldSnapshot.apply(HeldSnapshot.of(a), bToC))
                .isInstanceOf(ConfigDeltas.Mismatch.class).hasMessageContaining("holds version '" + a.getVersion());
        assertThatThrownBy(() -> HeldSnapshot.apply(null, bToC)).isInstanceOf(ConfigDeltas.Mismatch.class)
                .hasMessageContaining("holds version none");
        // a delta whose content does not hash to its version: the version named is refused with the one it gives
        ConfigSnapshot forged = ConfigDeltas.between(a, b).toBuilder().setVersion("0".repeat(24)).build();
        assertThatThrownBy(() -> HeldSnapshot.apply(HeldSnapshot.of(a), forged))
                .isInstanceOf(ConfigDeltas.Mismatch.class).hasMessageContaining("gives content of version "
                        + b.getVersion());
    }
}
