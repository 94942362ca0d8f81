package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void unitsAddUp() {
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse(" 250ms ")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
    }

    /** Found by ControllerConfigFuzzTest: "999999999999999999d" escaped as an ArithmeticException. */
    @Test
    void aDurationTooLongForJavaIsAnInvalidDurationNotAnOverflow() {
        for (String text : new String[] {"999999999999999999d", "99999999999999999999s", "9223372036854775807s1s"}) {
            assertThatThrownBy(() -> Durations.parse(text)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("invalid duration '" + text + "': longer than Java can represent");
        }
    }

    @Test
    void malformedTextNamesTheAcceptedForms() {
        assertThatThrownBy(() -> Durations.parse("5 minutes")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("e.g. 500ms, 90s, 30m, 24h, 7d or 1h30m");
    }
}
