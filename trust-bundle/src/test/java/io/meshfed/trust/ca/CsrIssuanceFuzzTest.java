package io.meshfed.trust.ca;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * A joiner's or renewer's CSR is DER bytes from the network, decoded and checked by the CA. Any bytes end in an SVID
 * for the requested ID or an {@link IssuanceRefusedException} (malformed, bad signature, weak key, another ID)
 * within 1 s.
 */
class CsrIssuanceFuzzTest {
    private static final SpiffeId ID = SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/vm/web-1");
    private static CertificateAuthority ca;

    /** The CA, and one issuance to load the classes, outside the 1 s every input gets. */
    @BeforeAll
    static void createCa() throws Exception {
        Path dir = Files.createTempDirectory("csr-fuzz");
        ca = BuiltinCertificateAuthority.create(dir.resolve("ca"), TrustDomain.parse("east.acme.mesh"),
                KeyEncryptionKey.createFile(dir.resolve("kek")), new BuiltinCertificateAuthority.Options(
                        KeyAlgorithm.EC_P256, Duration.ofDays(365), Duration.ofDays(30)), Clock.systemUTC());
        ca.issue(SvidRequest.of(CertificateSigningRequests.createDer(KeyAlgorithm.EC_P256.generate(), ID), ID,
                Duration.ofHours(1)), IssuancePolicy.exactly(ID));
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void issueFromDer(byte[] csrDer) throws Exception {
        IssuedSvid issued;
        try {
            issued = ca.issue(SvidRequest.of(csrDer, ID, Duration.ofHours(1)), IssuancePolicy.exactly(ID));
        } catch (IssuanceRefusedException refused) {
            return;
        }
        assertThat(issued.id()).isEqualTo(ID);
    }
}
