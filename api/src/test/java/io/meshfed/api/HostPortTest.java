package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HostPortTest {
    @Test
    void namesIpv4AndBracketedIpv6Parse() {
        assertThat(HostPort.parse("ctl.example.com:15012").getHostString()).isEqualTo("ctl.example.com");
        assertThat(HostPort.parse("127.0.1.1:0").getPort()).isZero();
        assertThat(HostPort.parse("[::1]:15443").getHostString()).isEqualTo("::1");
        assertThat(HostPort.parse("[::1]:15443").getPort()).isEqualTo(15443);
        assertThat(HostPort.parse("localhost:65535").isUnresolved()).isTrue();
        assertThat(HostPort.parseResolved("127.0.0.1:80").isUnresolved()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "localhost", ":80", "host:", "host:65536", "host:99999", "host:-1", "my_host:80",
        "::1:80", "host:80:90", "host:port"})
    void anythingElseIsRefusedWithTheRule(String text) {
        assertThatThrownBy(() -> HostPort.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(HostPort.RULE);
    }

    @Test
    void formatIsReadBackByParse() {
        for (String text : new String[] {"127.0.1.1:15008", "gw.example.com:15008", "[::1]:15008"}) {
            assertThat(HostPort.format(HostPort.parse(text))).isEqualTo(text);
        }
    }
}
