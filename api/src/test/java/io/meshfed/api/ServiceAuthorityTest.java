package io.meshfed.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceAuthorityTest {
    @Test
    void buildsTheAuthorityTunnelStreamsName() {
        assertThat(new ServiceAuthority("hello", "demo", 8080)).hasToString("hello.demo.svc.meshfed:8080");
    }

    @ParameterizedTest
    @ValueSource(strings = {"hello.demo.svc.meshfed:8080", "a.b.svc.meshfed:1", "echo-2.team-a.svc.meshfed:65535"})
    void parseAndToStringRoundTrip(String text) {
        ServiceAuthority authority = ServiceAuthority.parse(text);
        assertThat(authority).hasToString(text);
        assertThat(ServiceAuthority.tryParse(text)).contains(authority);
    }

    @Test
    void namesTheSameServicePortAsTheSni() {
        ServiceSni sni = new ServiceSni(8443, "api", "payments");
        ServiceAuthority authority = ServiceAuthority.of(sni);
        assertThat(authority).isEqualTo(ServiceAuthority.parse("api.payments.svc.meshfed:8443"));
        assertThat(authority.sni()).isEqualTo(sni);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "hello.demo.svc.meshfed         | authority 'hello.demo.svc.meshfed' has no port",
        "8080.hello.demo.svc.meshfed    | authority '8080.hello.demo.svc.meshfed' has no port",
        "hello.demo:8080                | authority 'hello.demo:8080' does not name a host ending in .svc.meshfed",
        "hello.svc.meshfed:8080         | authority 'hello.svc.meshfed:8080' must be NAME.NAMESPACE.svc.meshfed:PORT"
                + " (two parts before .svc.meshfed, not 1)",
        "a.b.c.svc.meshfed:8080         | (two parts before .svc.meshfed, not 3)",
        "hello.demo.svc.meshfed:0       | authority 'hello.demo.svc.meshfed:0': port '0' must be a number from 1 to 65535",
        "hello.demo.svc.meshfed:08080   | port '08080' must be a number from 1 to 65535",
        "hello.demo.svc.meshfed:65536   | port '65536' must be a number from 1 to 65535",
        "hello.demo.svc.meshfed:        | port '' must be a number from 1 to 65535",
        "Hello.demo.svc.meshfed:8080    | service name 'Hello'",
        "hello..svc.meshfed:8080        | namespace ''",
    })
    void refusesNamingTheBrokenPart(String text, String message) {
        assertThatThrownBy(() -> ServiceAuthority.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message.strip());
        assertThat(ServiceAuthority.tryParse(text)).isEmpty();
    }

    @Test
    void refusesNullAndOverlongTextBeforeLookingInside() {
        assertThat(ServiceAuthority.tryParse(null)).isEmpty();
        String huge = "a".repeat(100_000) + ".demo.svc.meshfed:80";
        assertThatThrownBy(() -> ServiceAuthority.parse(huge)).hasMessage(
                "authority of " + huge.length() + " characters is not NAME.NAMESPACE.svc.meshfed:PORT");
    }
}
