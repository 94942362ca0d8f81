package io.meshfed.trust.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.testing.MutableClock;
import io.meshfed.trust.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An external trust domain (a SPIRE server's, an Istio cluster's): its roots come from its bundle file, and it never
 * issues, whatever is asked.
 */
class ExternalCertificateAuthorityTest {
    private static final TrustDomain TD = TrustDomain.parse("spire.example");

    @TempDir
    Path dir;

    @Test
    void holdsTheBundlesRootsAndRefusesToIssue() throws Exception {
        TestPki spire = TestPki.create(TD.name(), Instant.now());
        Path file = dir.resolve("bundle.json");
        Files.writeString(file, SpiffeBundleJson.encode(spire.bundle()));
        CertificateAuthority ca = CaBackends.standard().named("external").open(new CaBackend.Context(TD, dir, null,
                new MutableClock(Instant.now()), Map.of("bundle-file", file.toString())));
        assertThat(ca.backend()).isEqualTo("external");
        assertThat(ca.issues()).isFalse();
        assertThat(ca.rootCertificates()).containsExactly(spire.root());
        assertThat(ca.signingChain()).isEmpty();
        SpiffeId id = TD.workload("/ns/demo/sa/hello");
        assertThatThrownBy(() -> ca.issue(SvidRequest.of(CertificateSigningRequests.createDer(
                KeyAlgorithm.EC_P256.generate(), id), id, Duration.ofHours(1)), IssuancePolicy.anyInTrustDomain()))
                .isInstanceOfSatisfying(IssuanceRefusedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(IssuanceRefusedException.Reason.EXTERNAL);
                    assertThat(e.getMessage()).contains("its own mesh issues its SVIDs");
                });
    }

    @Test
    void aMissingOrBrokenBundleIsNamed() throws Exception {
        CaBackend external = CaBackends.standard().named("external");
        MutableClock clock = new MutableClock(Instant.now());
        assertThatThrownBy(() -> external.open(new CaBackend.Context(TD, dir, null, clock, Map.of())))
                .isInstanceOf(CaException.class).hasMessageContaining("needs the setting 'bundle-file'");
        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, "{\"keys\": 3}");
        assertThatThrownBy(() -> external.open(new CaBackend.Context(TD, dir, null, clock,
                Map.of("bundle-file", garbage.toString())))).isInstanceOf(CaException.class)
                .hasMessageContaining("the bundle of external trust domain spire.example");
        assertThatThrownBy(() -> CaBackends.standard().named("hsm")).isInstanceOf(CaException.class)
                .hasMessage("unknown CA backend 'hsm'; the backends are builtin, provided, vault, external");
    }
}
