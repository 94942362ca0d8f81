package io.meshfed.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.api.v1.AttestedSource;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class SourceAttestationTest {
    private static final TrustDomain EAST = TrustDomain.parse("east.acme.mesh");

    private static ConfigSnapshot snapshot(String... addressAndIdentity) {
        ConfigSnapshot.Builder b = ConfigSnapshot.newBuilder().setVersion("v7");
        for (int i = 0; i < addressAndIdentity.length; i += 2) {
            b.addAttestedSources(AttestedSource.newBuilder().setAddress(addressAndIdentity[i])
                    .setIdentity(addressAndIdentity[i + 1]));
        }
        return b.build();
    }

    @Test
    void aListedSourceIsItsPodsWorkloadAndAnyOtherSourceIsNobody() throws Exception {
        SourceAttestation a = SourceAttestation.of(snapshot(
                "10.1.0.5", "spiffe://east.acme.mesh/ns/shop/sa/cart",
                "10.1.0.6", "spiffe://east.acme.mesh/ns/shop/sa/default"), EAST);

        assertThat(a.attest(InetAddress.getByName("10.1.0.5")))
                .contains(SpiffeId.parse("spiffe://east.acme.mesh/ns/shop/sa/cart"));
        assertThat(a.attest(InetAddress.getByName("10.1.0.6")))
                .contains(SpiffeId.parse("spiffe://east.acme.mesh/ns/shop/sa/default"));
        assertThat(a.attest(InetAddress.getByName("10.1.0.7"))).as("a miss").isEmpty();
        assertThat(a.attest(InetAddress.getByName("127.0.0.1"))).isEmpty();
        assertThat(a.attest(null)).isEmpty();
        assertThat(a.size()).isEqualTo(2);
        assertThat(a.version()).isEqualTo("v7");
    }

    @Test
    void ipv6SourcesMatchWhateverTheirTextAndIpv4MappedSourcesMatchTheirIpv4Entry() throws Exception {
        SourceAttestation a = SourceAttestation.of(snapshot(
                "fd00:10::5", "spiffe://east.acme.mesh/ns/shop/sa/cart",
                "10.1.0.5", "spiffe://east.acme.mesh/ns/shop/sa/web"), EAST);

        assertThat(a.attest(InetAddress.getByName("fd00:10:0:0:0:0:0:5")))
                .contains(SpiffeId.parse("spiffe://east.acme.mesh/ns/shop/sa/cart"));
        assertThat(a.attest(InetAddress.getByName("fd00:10::6"))).isEmpty();
        // a dual-stack listener reports an IPv4 peer as ::ffff:a.b.c.d
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(InetAddress.getByName("10.1.0.5").getAddress(), 0, mapped, 12, 4);
        assertThat(a.attest(java.net.Inet6Address.getByAddress(null, mapped, null)))
                .contains(SpiffeId.parse("spiffe://east.acme.mesh/ns/shop/sa/web"));
    }

    @Test
    void aSnapshotWithoutSourcesAttestsNobody() throws Exception {
        assertThat(SourceAttestation.of(snapshot(), EAST).attest(InetAddress.getByName("10.1.0.5"))).isEmpty();
        assertThat(SourceAttestation.none().attest(InetAddress.getByName("10.1.0.5"))).isEmpty();
        assertThat(SourceAttestation.none().size()).isZero();
    }

    @Test
    void aForeignTrustDomainANonWorkloadIdAMalformedAddressOrARepeatedOneRefusesTheSnapshotNamingTheEntry() {
        assertThatThrownBy(() -> SourceAttestation.of(snapshot(
                "10.1.0.5", "spiffe://west.acme.mesh/ns/shop/sa/cart"), EAST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("attested source 10.1.0.5").hasMessageContaining("own trust domain east.acme.mesh");
        assertThatThrownBy(() -> SourceAttestation.of(snapshot(
                "10.1.0.5", "spiffe://east.acme.mesh/meshfed/gateway/gw-1"), EAST))
                .hasMessageContaining("only workload IDs");
        assertThatThrownBy(() -> SourceAttestation.of(snapshot(
                "pod.example", "spiffe://east.acme.mesh/ns/shop/sa/cart"), EAST))
                .hasMessageContaining("attested source pod.example").hasMessageContaining("not an IP literal");
        assertThatThrownBy(() -> SourceAttestation.of(snapshot(
                "fe80::1%eth0", "spiffe://east.acme.mesh/ns/shop/sa/cart"), EAST))
                .hasMessageContaining("not an IP literal");
        assertThatThrownBy(() -> SourceAttestation.of(snapshot(
                "10.1.0.5", "spiffe://east.acme.mesh/ns/shop/sa/a b"), EAST))
                .hasMessageContaining("attested source 10.1.0.5");
        assertThatThrownBy(() -> SourceAttestation.of(snapshot(
                "10.1.0.5", "spiffe://east.acme.mesh/ns/shop/sa/cart",
                "10.1.0.5", "spiffe://east.acme.mesh/ns/shop/sa/web"), EAST))
                .hasMessageContaining("listed more than once");
    }
}
