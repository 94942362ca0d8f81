package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DnsLabelTest {
    private static final String LONGEST = "a" + "-".repeat(61) + "z";

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "hello", "east-vms", "a1-b2", "9lives"})
    void lowercaseLettersDigitsAndInnerHyphensAreLabels(String value) {
        assertThat(DnsLabel.matches(value)).isTrue();
        assertThat(DnsLabel.check("network name", value)).isEqualTo(value);
    }

    @Test
    void sixtyThreeCharactersIsTheLongest() {
        assertThat(LONGEST).hasSize(63);
        assertThat(DnsLabel.matches(LONGEST)).isTrue();
        assertThat(DnsLabel.matches(LONGEST + "a")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Hello", "-a", "a-", "a.b", "a_b", "a/vm/b", "a b", "é", "a\n"})
    void anythingElseIsRefusedNamingWhatAndValue(String value) {
        assertThat(DnsLabel.matches(value)).isFalse();
        assertThatThrownBy(() -> DnsLabel.check("namespace", value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("namespace '" + value + "' must be a DNS label (lowercase letters, digits and '-', at most"
                        + " 63 characters, starting and ending with a letter or digit)");
    }

    @Test
    void nullIsNoLabel() {
        assertThat(DnsLabel.matches(null)).isFalse();
        assertThatThrownBy(() -> DnsLabel.check("route id", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("route id 'null' must be a DNS label");
    }
}
