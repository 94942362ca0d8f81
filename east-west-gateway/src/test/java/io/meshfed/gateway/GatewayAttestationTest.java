package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.v1.AttestedSource;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The east-west gateway keeps the source attestation of its current snapshot next to its routes: swapped with each
 * snapshot, and a snapshot whose attested sources the gateway may not use (another trust domain's) changes nothing.
 */
class GatewayAttestationTest {
    private final TestPki east = TestPki.create("east.acme.mesh", Instant.now());

    private static ConfigSnapshot snapshot(String version, String address, String identity) {
        return ConfigSnapshot.newBuilder().setVersion(version).setMember("east").setNetwork("east-net")
                .addAttestedSources(AttestedSource.newBuilder().setAddress(address).setIdentity(identity)).build();
    }

    @Test
    void eachSnapshotSwapsTheAttestationAndAForeignIdentityRefusesTheSnapshotWhole() throws Exception {
        try (Gateway gateway = Gateway.start(TlsCredentials.of(east.svid("/meshfed/gateway/gw"),
                BundleSet.of(east.bundle())), new InetSocketAddress("127.0.1.1", 0), InetAddress.getByName("127.0.1.1"),
                Clock.systemUTC())) {
            assertThat(gateway.attestation().attest(InetAddress.getByName("10.1.0.5"))).as("before any config")
                    .isEmpty();

            gateway.update(snapshot("v1", "10.1.0.5", "spiffe://east.acme.mesh/ns/shop/sa/cart"));
            assertThat(gateway.attestation().attest(InetAddress.getByName("10.1.0.5")))
                    .contains(SpiffeId.parse("spiffe://east.acme.mesh/ns/shop/sa/cart"));

            gateway.update(snapshot("v2", "10.1.0.6", "spiffe://east.acme.mesh/ns/shop/sa/web"));
            assertThat(gateway.attestation().attest(InetAddress.getByName("10.1.0.5"))).as("gone with v2").isEmpty();
            assertThat(gateway.attestation().attest(InetAddress.getByName("10.1.0.6")))
                    .contains(SpiffeId.parse("spiffe://east.acme.mesh/ns/shop/sa/web"));

            assertThatThrownBy(() -> gateway.update(snapshot("v3", "10.1.0.7",
                    "spiffe://west.acme.mesh/ns/shop/sa/web"))).hasMessageContaining("own trust domain east.acme.mesh");
            assertThat(gateway.version()).as("the refused snapshot changed no route").isEqualTo("v2");
            assertThat(gateway.attestation().version()).isEqualTo("v2");
        }
    }
}
