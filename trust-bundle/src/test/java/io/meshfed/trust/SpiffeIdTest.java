package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.InvalidSpiffeIdException.Rule;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "spiffe://example.org",
        "spiffe://example.org/workload",
        "spiffe://east.acme.mesh/ns/default/sa/web",
        "spiffe://a-b_c.1/Path.With-Mixed_Case/0",
        "spiffe://x/.hidden/..dots/.../a",
        "spiffe://east.acme.mesh/meshfed/gateway/gw-1",
    })
    void validIdsParseAndRoundTrip(String text) {
        SpiffeId id = SpiffeId.parse(text);
        assertThat(id.toString()).isEqualTo(text);
        assertThat(SpiffeId.parse(id.toString())).isEqualTo(id);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("", Rule.EMPTY),
                Arguments.of("http://example.org/x", Rule.WRONG_SCHEME),
                Arguments.of("SPIFFE://example.org/x", Rule.WRONG_SCHEME),
                Arguments.of("spiffe:/example.org/x", Rule.WRONG_SCHEME),
                Arguments.of("example.org/x", Rule.WRONG_SCHEME),
                Arguments.of("spiffe://", Rule.MISSING_TRUST_DOMAIN),
                Arguments.of("spiffe:///path", Rule.MISSING_TRUST_DOMAIN),
                Arguments.of("spiffe://Example.org/x", Rule.TRUST_DOMAIN_CHARACTER),
                Arguments.of("spiffe://exa mple.org/x", Rule.TRUST_DOMAIN_CHARACTER),
                Arguments.of("spiffe://example.org:8443/x", Rule.PORT),
                Arguments.of("spiffe://user@example.org/x", Rule.USER_INFO),
                Arguments.of("spiffe://user:pw@example.org/x", Rule.USER_INFO),
                Arguments.of("spiffe://example.org/x?query=1", Rule.QUERY),
                Arguments.of("spiffe://example.org/x#frag", Rule.FRAGMENT),
                Arguments.of("spiffe://example.org/x%20y", Rule.PERCENT_ENCODING),
                Arguments.of("spiffe://example%2Eorg/x", Rule.PERCENT_ENCODING),
                Arguments.of("spiffe://example.org//x", Rule.EMPTY_SEGMENT),
                Arguments.of("spiffe://example.org/a//b", Rule.EMPTY_SEGMENT),
                Arguments.of("spiffe://example.org/", Rule.TRAILING_SLASH),
                Arguments.of("spiffe://example.org/a/", Rule.TRAILING_SLASH),
                Arguments.of("spiffe://example.org/./a", Rule.DOT_SEGMENT),
                Arguments.of("spiffe://example.org/a/..", Rule.DOT_SEGMENT),
                Arguments.of("spiffe://example.org/a/b c", Rule.PATH_CHARACTER),
                Arguments.of("spiffe://example.org/a/b*c", Rule.PATH_CHARACTER),
                Arguments.of("spiffe://example.org/caf\u00e9", Rule.PATH_CHARACTER),
                Arguments.of("spiffe://" + "a".repeat(256) + "/x", Rule.TRUST_DOMAIN_TOO_LONG),
                Arguments.of("spiffe://example.org/" + "a".repeat(2048), Rule.TOO_LONG));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalidIdsNameTheBrokenRule(String text, Rule rule) {
        assertThatThrownBy(() -> SpiffeId.parse(text))
                .isInstanceOfSatisfying(InvalidSpiffeIdException.class, e -> {
                    assertThat(e.rule()).isEqualTo(rule);
                    assertThat(e.getMessage()).contains(rule.description());
                });
    }

    @Test
    void idOfExactly2048BytesIsAccepted() {
        String prefix = "spiffe://example.org/";
        String text = prefix + "a".repeat(2048 - prefix.length());
        assertThat(SpiffeId.parse(text).toString()).hasSize(2048);
    }

    @Test
    void partsAreExposed() {
        SpiffeId id = SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/sa/hello");
        assertThat(id.trustDomain()).isEqualTo(TrustDomain.parse("east.acme.mesh"));
        assertThat(id.path()).isEqualTo("/ns/demo/sa/hello");
        assertThat(id.isTrustDomainId()).isFalse();
        assertThat(SpiffeId.parse("spiffe://east.acme.mesh").isTrustDomainId()).isTrue();
    }

    @Test
    void trustDomainAcceptsBareNameOrItsSpiffeId() {
        assertThat(TrustDomain.parse("east.acme.mesh").name()).isEqualTo("east.acme.mesh");
        assertThat(TrustDomain.parse("spiffe://east.acme.mesh").name()).isEqualTo("east.acme.mesh");
        assertThat(TrustDomain.parse("east.acme.mesh").id().toString()).isEqualTo("spiffe://east.acme.mesh");
    }

    @Test
    void trustDomainRejectsAWorkloadIdAndBadNames() {
        assertThatThrownBy(() -> TrustDomain.parse("spiffe://east.acme.mesh/ns/x"))
                .isInstanceOfSatisfying(InvalidSpiffeIdException.class,
                        e -> assertThat(e.rule()).isEqualTo(Rule.NOT_A_TRUST_DOMAIN));
        assertThatThrownBy(() -> TrustDomain.parse("East.acme"))
                .isInstanceOfSatisfying(InvalidSpiffeIdException.class,
                        e -> assertThat(e.rule()).isEqualTo(Rule.TRUST_DOMAIN_CHARACTER));
        assertThatThrownBy(() -> TrustDomain.parse(""))
                .isInstanceOfSatisfying(InvalidSpiffeIdException.class,
                        e -> assertThat(e.rule()).isEqualTo(Rule.MISSING_TRUST_DOMAIN));
    }

    @Test
    void messageQuotesTheInput() {
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org/a//b"))
                .hasMessage("invalid SPIFFE ID 'spiffe://example.org/a//b': it must not contain an empty path"
                        + " segment ('//')");
    }
}
