package io.meshfed.trust;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * PEM comes from files an operator points at (bundles, provided CAs, keys, CSRs for {@code meshfed trust issue}).
 * Any text reads to certificates, a key or a CSR, or fails with a {@link TrustFormatException} within 1 s.
 */
class PemFuzzTest {
    /** One valid input first, to load the classes outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        io.meshfed.trust.testing.TestPki pki = io.meshfed.trust.testing.TestPki.create("east.acme.mesh",
                java.time.Instant.now());
        Pem.readCertificates(Pem.writeCertificates(java.util.List.of(pki.root())));
        Pem.readPrivateKey(Pem.writePrivateKey(pki.rootKeys().getPrivate()));
        Pem.readCsr(Pem.writeCsr(CertificateSigningRequests.createWithoutId(pki.rootKeys())));
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void certificates(byte[] input) {
        try {
            Pem.readCertificates(new String(input, StandardCharsets.UTF_8));
        } catch (TrustFormatException refused) {
            // documented
        }
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void privateKey(byte[] input) {
        try {
            Pem.readPrivateKey(new String(input, StandardCharsets.UTF_8));
        } catch (TrustFormatException refused) {
            // documented
        }
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void certificateRequest(byte[] input) {
        try {
            Pem.readCsr(new String(input, StandardCharsets.UTF_8));
        } catch (TrustFormatException refused) {
            // documented
        }
    }
}
