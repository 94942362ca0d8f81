package io.meshfed.controller.connector.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.meshfed.controller.catalog.MemberAddresses;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.PodIdentitiesRecord;
import io.meshfed.trust.TrustDomain;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of which pods may be attested, on the cache's objects (no API server). */
class AttestablePodsTest {
    private static final TrustDomain TD = TrustDomain.parse("east.acme.mesh");

    private static MemberAddresses anyAddress() {
        return MemberAddresses.of(new MemberRecord("east", "kubernetes", "east", "east.acme.mesh", List.of(),
                List.of()));
    }

    private static Pod pod(String name, String phase, String podIp, String... podIps) {
        PodBuilder b = new PodBuilder().withNewMetadata().withNamespace("shop").withName(name).endMetadata()
                .withNewSpec().withServiceAccountName("cart").endSpec().withNewStatus().withPhase(phase)
                .withPodIP(podIp).endStatus();
        for (String ip : podIps) {
            b.editStatus().addNewPodIP().withIp(ip).endPodIP().endStatus();
        }
        return b.build();
    }

    @Test
    void podIpIsTheFallbackAndAddressesAreStoredInCanonicalForm() {
        AttestablePods.Result r = AttestablePods.compute(List.of(pod("old", "Running", "10.1.0.5"),
                pod("dual", "Running", "10.1.0.6", "10.1.0.6", "FD00:10:0:0:0:0:0:6"),
                pod("mapped", "Running", "::ffff:10.1.0.7")), TD, anyAddress(), 10);
        assertThat(r.pods()).extracting(PodIdentitiesRecord.Pod::address)
                .containsExactly("10.1.0.5", "10.1.0.6", "10.1.0.7", "fd00:10::6");
        assertThat(r.problem()).isEmpty();
    }

    @Test
    void anAddressTheMemberMayNotReportIsNotAttestedAndCounted() {
        MemberAddresses cidrs = MemberAddresses.of(new MemberRecord("east", "kubernetes", "east", "east.acme.mesh",
                List.of(), List.of("10.1.0.0/16")));
        AttestablePods.Result r = AttestablePods.compute(List.of(pod("inside", "Running", "10.1.0.5"),
                pod("outside", "Running", "192.168.1.5"), pod("junk", "Running", "not-an-ip")), TD, cidrs, 10);
        assertThat(r.pods()).extracting(PodIdentitiesRecord.Pod::address).containsExactly("10.1.0.5");
        assertThat(r.refusedAddresses().count()).isEqualTo(1);
        assertThat(r.problem()).contains("1 pod IP(s) not attested, not addresses the member may report (first:"
                + " shop/outside: address '192.168.1.5' is outside member east's CIDRs");
        // without CIDRs, loopback is refused (only a CIDR the admin gave allows it)
        assertThat(AttestablePods.compute(List.of(pod("lo", "Running", "127.0.0.5")), TD, anyAddress(), 10).pods())
                .isEmpty();
    }

    @Test
    void aPendingPodWithTheSameIpStillBlocksItButATerminatedOneDoesNot() {
        assertThat(AttestablePods.compute(List.of(pod("a", "Running", "10.1.0.5"), pod("b", "Pending", "10.1.0.5")),
                TD, anyAddress(), 10).pods()).isEmpty();
        assertThat(AttestablePods.compute(List.of(pod("a", "Running", "10.1.0.5"), pod("b", "Failed", "10.1.0.5")),
                TD, anyAddress(), 10).pods()).hasSize(1);
    }

    @Test
    void exactlyAtTheBoundAttestationIsOnAndOneMoreTurnsItOff() {
        List<Pod> three = List.of(pod("a", "Running", "10.1.0.1"), pod("b", "Running", "10.1.0.2"),
                pod("c", "Succeeded", "10.1.0.3"));
        assertThat(AttestablePods.compute(three, TD, anyAddress(), 3).enabled()).isTrue();
        AttestablePods.Result over = AttestablePods.compute(three, TD, anyAddress(), 2);
        assertThat(over.enabled()).isFalse();
        assertThat(over.pods()).isEmpty();
        assertThat(over.problem()).startsWith("pod attestation is off: the cluster has 3 pods, more than"
                + " maxPodsPerCluster (2)");
    }
}
