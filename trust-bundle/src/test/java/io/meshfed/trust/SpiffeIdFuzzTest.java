package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * SPIFFE IDs and trust domain names come from certificates, CSRs, snapshots and admin requests. Whatever the text,
 * parsing ends in an ID or an {@link InvalidSpiffeIdException} within 1 s; an accepted ID is exactly its text (the
 * standard allows no normalisation) and parses again to itself.
 */
class SpiffeIdFuzzTest {
    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void spiffeId(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        SpiffeId id;
        try {
            id = SpiffeId.parse(text);
        } catch (InvalidSpiffeIdException refused) {
            assertThat(refused.getMessage()).startsWith("invalid SPIFFE ID");
            return;
        }
        assertThat(id.toString()).isEqualTo(text);
        assertThat(SpiffeId.parse(id.toString())).isEqualTo(id);
        assertThat(TrustDomain.parse(id.trustDomain().name())).isEqualTo(id.trustDomain());
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void trustDomain(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        TrustDomain td;
        try {
            td = TrustDomain.parse(text);
        } catch (InvalidSpiffeIdException refused) {
            return;
        }
        assertThat(TrustDomain.parse(td.name())).isEqualTo(td);
        assertThat(SpiffeId.parse("spiffe://" + td.name()).trustDomain()).isEqualTo(td);
    }
}
