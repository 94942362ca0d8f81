package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.InvalidSpiffeIdException.Rule;
import org.junit.jupiter.api.Test;

class SpiffeIdPatternTest {
    private static SpiffeId id(String text) {
        return SpiffeId.parse(text);
    }

    private static void refused(String pattern, Rule rule, String message) {
        assertThatThrownBy(() -> SpiffeIdPattern.parse(pattern)).isInstanceOfSatisfying(
                InvalidSpiffeIdException.class, e -> {
                    assertThat(e.rule()).isEqualTo(rule);
                    assertThat(e.input()).isEqualTo(pattern);
                    assertThat(e.getMessage()).startsWith("invalid SPIFFE ID pattern '").contains(message);
                });
    }

    @Test
    void anExactIdMatchesThatIdOnly() {
        SpiffeIdPattern cart = SpiffeIdPattern.parse("spiffe://td/ns/shop/sa/cart");
        assertThat(cart.form()).isEqualTo(SpiffeIdPattern.Form.EXACT);
        assertThat(cart.matches(id("spiffe://td/ns/shop/sa/cart"))).isTrue();
        assertThat(cart.matches(id("spiffe://td/ns/shop/sa/cart2"))).isFalse();
        assertThat(cart.matches(id("spiffe://td/ns/shop/sa/cart/x"))).isFalse();
        assertThat(cart.matches(id("spiffe://other/ns/shop/sa/cart"))).isFalse();
        assertThat(cart.toString()).isEqualTo("spiffe://td/ns/shop/sa/cart");
    }

    @Test
    void aPrefixMatchesBelowItAtASegmentBoundaryOnly() {
        SpiffeIdPattern shop = SpiffeIdPattern.parse("spiffe://td/ns/shop/*");
        assertThat(shop.form()).isEqualTo(SpiffeIdPattern.Form.PREFIX);
        assertThat(shop.matches(id("spiffe://td/ns/shop/sa/cart"))).isTrue();
        assertThat(shop.matches(id("spiffe://td/ns/shop/x"))).isTrue();
        assertThat(shop.matches(id("spiffe://td/ns/shopping/x"))).as("not at a segment boundary").isFalse();
        assertThat(shop.matches(id("spiffe://td/ns/shop"))).as("the prefix itself is not below it").isFalse();
        assertThat(shop.matches(id("spiffe://td/ns"))).isFalse();
        assertThat(shop.matches(id("spiffe://td2/ns/shop/x"))).as("another trust domain").isFalse();
        assertThat(shop.matches(id("spiffe://td"))).isFalse();

        SpiffeIdPattern anyPath = SpiffeIdPattern.parse("spiffe://td/*");
        assertThat(anyPath.matches(id("spiffe://td/a"))).isTrue();
        assertThat(anyPath.matches(id("spiffe://td/a/b"))).isTrue();
        assertThat(anyPath.matches(id("spiffe://tdx/a"))).isFalse();
    }

    @Test
    void aTrustDomainMatchesEveryIdInItAndNoOther() {
        SpiffeIdPattern west = SpiffeIdPattern.parse("spiffe://west-extra.acme.mesh");
        assertThat(west.form()).isEqualTo(SpiffeIdPattern.Form.TRUST_DOMAIN);
        assertThat(west.trustDomain()).isEqualTo(TrustDomain.parse("west-extra.acme.mesh"));
        assertThat(west.matches(id("spiffe://west-extra.acme.mesh/ns/demo/vm/vm-1"))).isTrue();
        assertThat(west.matches(id("spiffe://west.acme.mesh/ns/demo/vm/vm-1"))).isFalse();
        assertThat(west.matches(id("spiffe://west-extra.acme.mesh.evil/ns/demo/vm/vm-1"))).isFalse();
    }

    @Test
    void patternsAreEqualByTextAndExactlyBuildsTheSameAsParse() {
        assertThat(SpiffeIdPattern.parse("spiffe://td/ns/a/*")).isEqualTo(SpiffeIdPattern.parse("spiffe://td/ns/a/*"))
                .isNotEqualTo(SpiffeIdPattern.parse("spiffe://td/ns/a"));
        assertThat(SpiffeIdPattern.exactly(id("spiffe://td/ns/a")))
                .isEqualTo(SpiffeIdPattern.parse("spiffe://td/ns/a"));
        assertThat(SpiffeIdPattern.exactly(id("spiffe://td")).form()).isEqualTo(SpiffeIdPattern.Form.TRUST_DOMAIN);
    }

    @Test
    void badPatternsAreRefusedNamingTheRule() {
        refused("spiffe://td/ns/shop*", Rule.WILDCARD, "only as its whole last path segment");
        refused("spiffe://td/*/sa/cart", Rule.WILDCARD, "'*'");
        refused("spiffe://*", Rule.WILDCARD, "'*'");
        refused("spiffe://td/ns/*/*", Rule.WILDCARD, "'*'");
        refused("*", Rule.WRONG_SCHEME, "'spiffe://'");
        refused("spiffe://td/", Rule.TRAILING_SLASH, "must not end with '/'");
        refused("spiffe://td//*", Rule.TRAILING_SLASH, "must not end with '/'");
        refused("spiffe://td/a//b/*", Rule.EMPTY_SEGMENT, "empty path segment");
        refused("spiffe://td/../*", Rule.DOT_SEGMENT, "'.' or '..'");
        refused("spiffe://TD/*", Rule.TRUST_DOMAIN_CHARACTER, "character 'T'");
        refused("https://td/*", Rule.WRONG_SCHEME, "'spiffe://'");
        refused("", Rule.EMPTY, "is empty");
        refused("/*", Rule.WRONG_SCHEME, "'spiffe://'");
        refused("spiffe://td:443/*", Rule.PORT, "port");
        refused("spiffe://td/" + "a".repeat(2048) + "/*", Rule.TOO_LONG, "longer than 2048 bytes");
    }
}
