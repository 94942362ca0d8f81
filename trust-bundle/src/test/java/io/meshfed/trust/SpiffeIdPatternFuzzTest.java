package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Caller patterns come from admin requests and config snapshots. Whatever the text, parsing ends in a pattern or an
 * {@link InvalidSpiffeIdException} within 1 s; an accepted pattern is exactly its text, parses again to itself, and
 * matches what its form says: an exact ID itself, a prefix an ID one segment below it and never the prefix itself, a
 * trust domain an ID in it; and never an ID of another trust domain.
 */
class SpiffeIdPatternFuzzTest {
    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void pattern(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        SpiffeIdPattern pattern;
        try {
            pattern = SpiffeIdPattern.parse(text);
        } catch (InvalidSpiffeIdException refused) {
            assertThat(refused.getMessage()).startsWith("invalid SPIFFE ID pattern");
            return;
        }
        assertThat(pattern.toString()).isEqualTo(text);
        assertThat(SpiffeIdPattern.parse(text)).isEqualTo(pattern);
        String td = pattern.trustDomain().name();
        SpiffeId elsewhere = SpiffeId.parse("spiffe://" + (td.length() < 255 ? td + "x" : "y") + "/x");
        assertThat(pattern.matches(elsewhere)).isFalse();
        switch (pattern.form()) {
            case EXACT -> assertThat(pattern.matches(SpiffeId.parse(text))).isTrue();
            case TRUST_DOMAIN -> assertThat(pattern.matches(SpiffeId.parse(text + "/any"))).isTrue();
            case PREFIX -> {
                String prefix = text.substring(0, text.length() - 2);
                assertThat(pattern.matches(SpiffeId.parse(prefix))).isFalse();
                if (prefix.length() + 2 <= 2048) {
                    assertThat(pattern.matches(SpiffeId.parse(prefix + "/x"))).isTrue();
                }
            }
        }
    }
}
