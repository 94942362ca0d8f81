package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * SPIFFE bundles arrive from members, bundle endpoints and files. Any text decodes to a bundle or a
 * {@link TrustFormatException} within 1 s, and a decoded bundle encodes to JSON that decodes to the same bundle.
 */
class SpiffeBundleJsonFuzzTest {
    private static final TrustDomain TD = TrustDomain.parse("east.acme.mesh");

    /** One valid input first, to load the classes outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        SpiffeBundleJson.decode(TD, SpiffeBundleJson.encode(io.meshfed.trust.testing.TestPki.create(TD.name(),
                java.time.Instant.now()).bundle()));
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void decode(byte[] input) {
        TrustBundle bundle;
        try {
            bundle = SpiffeBundleJson.decode(TD, new String(input, StandardCharsets.UTF_8));
        } catch (TrustFormatException refused) {
            return;
        }
        TrustBundle again = SpiffeBundleJson.decode(TD, SpiffeBundleJson.encode(bundle));
        assertThat(again.x509Authorities()).isEqualTo(bundle.x509Authorities());
        assertThat(again.sequenceNumber()).isEqualTo(bundle.sequenceNumber());
        assertThat(again.refreshHint()).isEqualTo(bundle.refreshHint());
    }
}
