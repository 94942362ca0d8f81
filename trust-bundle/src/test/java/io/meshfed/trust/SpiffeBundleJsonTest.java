package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshfed.trust.testing.TestPki;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SpiffeBundleJsonTest {
    private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
    private static final TrustDomain EXAMPLE = TrustDomain.parse("example.com");

    private final TestPki pki = TestPki.create("example.com", NOW);
    private final TestPki second = TestPki.create("example.com", NOW);

    private static String b64(X509Certificate cert) throws Exception {
        return Base64.getEncoder().encodeToString(cert.getEncoded());
    }

    /** The structure of the standard's Appendix A example (bundle #2, two roots), written by hand. */
    @Test
    void decodesTheStandardsExampleStructure() throws Exception {
        String json = """
                {
                        "spiffe_sequence": 2,
                        "spiffe_refresh_hint": 2419200,
                        "keys": [
                                {
                                        "kty": "EC",
                                        "use": "x509-svid",
                                        "x5c": ["%s"],
                                        "crv": "P-256",
                                        "x": "ignored-by-consumers",
                                        "y": "ignored-by-consumers"
                                },
                                {
                                        "kty": "EC",
                                        "use": "x509-svid",
                                        "x5c": ["%s"]
                                }
                        ]
                }
                """.formatted(b64(pki.root()), b64(second.root()));
        TrustBundle bundle = SpiffeBundleJson.decode(EXAMPLE, json);
        assertThat(bundle.trustDomain()).isEqualTo(EXAMPLE);
        assertThat(bundle.sequenceNumber()).isEqualTo(2);
        assertThat(bundle.refreshHint()).contains(Duration.ofSeconds(2419200));
        assertThat(bundle.x509Authorities()).containsExactly(pki.root(), second.root());
    }

    @Test
    void encodeThenDecodeRoundTrips() {
        TrustBundle bundle = TrustBundle.builder(EXAMPLE).x509Authorities(List.of(pki.root(), second.root()))
                .sequenceNumber(7).refreshHint(Duration.ofMinutes(5)).build();
        TrustBundle back = SpiffeBundleJson.decode(EXAMPLE, SpiffeBundleJson.encode(bundle));
        assertThat(back).isEqualTo(bundle);
    }

    @Test
    void encodedKeysFollowThePublishingRules() throws Exception {
        String json = SpiffeBundleJson.encode(TrustBundle.of(EXAMPLE, List.of(pki.root())));
        JsonNode key = new ObjectMapper().readTree(json).get("keys").get(0);
        assertThat(key.get("use").asText()).isEqualTo("x509-svid");
        assertThat(key.get("kty").asText()).isEqualTo("EC");
        assertThat(key.get("crv").asText()).isEqualTo("P-256");
        assertThat(Base64.getUrlDecoder().decode(key.get("x").asText())).hasSize(32);
        assertThat(key.has("kid")).as("x509-svid keys MUST NOT have kid").isFalse();
        assertThat(key.get("x5c")).hasSize(1);
        assertThat(key.get("x5c").get(0).asText()).isEqualTo(b64(pki.root()));
    }

    @Test
    void rsaRootsCarryModulusAndExponent() throws Exception {
        var keys = KeyAlgorithm.RSA_2048.generate();
        X509Certificate rsaRoot = io.meshfed.trust.internal.CertificateBuilder.builder().subject("CN=rsa")
                .selfSigned(keys.getPublic(), keys.getPrivate()).validity(NOW, NOW.plus(Duration.ofDays(1)))
                .ca(true, null).keyUsage(org.bouncycastle.asn1.x509.KeyUsage.keyCertSign).build();
        JsonNode key = new ObjectMapper().readTree(SpiffeBundleJson.encode(TrustBundle.of(EXAMPLE, List.of(rsaRoot))))
                .get("keys").get(0);
        assertThat(key.get("kty").asText()).isEqualTo("RSA");
        assertThat(key.get("e").asText()).isEqualTo("AQAB");
        assertThat(Base64.getUrlDecoder().decode(key.get("n").asText())).hasSize(256);
    }

    /** An authority whose key encode() cannot write back (found by SpiffeBundleJsonFuzzTest) is refused on decode. */
    @Test
    void anAuthorityWithAKeyOtherThanEcOrRsaIsRefused() throws Exception {
        var rsa = KeyAlgorithm.RSA_2048.generate();
        X509Certificate rsaRoot = io.meshfed.trust.internal.CertificateBuilder.builder().subject("CN=rsa")
                .selfSigned(rsa.getPublic(), rsa.getPrivate()).validity(NOW, NOW.plus(Duration.ofDays(1)))
                .ca(true, null).keyUsage(org.bouncycastle.asn1.x509.KeyUsage.keyCertSign).build();
        X509Certificate ed = io.meshfed.trust.internal.CertificateBuilder.builder().subject("CN=ed")
                .issuedBy(rsaRoot, rsa.getPrivate()).publicKey(java.security.KeyPairGenerator.getInstance("Ed25519")
                        .generateKeyPair().getPublic()).validity(NOW, NOW.plus(Duration.ofDays(1))).ca(true, null)
                .keyUsage(org.bouncycastle.asn1.x509.KeyUsage.keyCertSign).build();
        String json = "{\"keys\":[{\"kty\":\"OKP\",\"use\":\"x509-svid\",\"x5c\":[\""
                + Base64.getEncoder().encodeToString(ed.getEncoded()) + "\"]}]}";

        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE, json)).isInstanceOf(TrustFormatException.class)
                .hasMessage("keys[0].x5c[0]: the authority's key is EdDSA; X.509 authorities must have EC or RSA keys");
    }

    @Test
    void keysWithUnknownUseOrTypeAreIgnoredAndJwtAuthoritiesKept() throws Exception {
        String json = """
                {"keys": [
                  {"kty": "EC", "use": "x509-svid", "x5c": ["%s"]},
                  {"kty": "EC", "use": "wit-svid", "x5c": ["%s"]},
                  {"kty": "EC", "use": "jwt-svid", "kid": "k1", "crv": "P-256", "x": "AA", "y": "AA"},
                  {"kty": "oct", "use": "x509-svid", "x5c": ["%s"]},
                  {"use": "x509-svid", "x5c": ["%s"]},
                  {"kty": "EC", "x5c": ["%s"]}
                ]}
                """.formatted(b64(pki.root()), b64(second.root()), b64(second.root()), b64(second.root()),
                b64(second.root()));
        TrustBundle bundle = SpiffeBundleJson.decode(EXAMPLE, json);
        assertThat(bundle.x509Authorities()).containsExactly(pki.root());
        assertThat(bundle.jwtAuthorities()).containsOnlyKeys("k1");
        // The JWT authority passes through an encode unchanged.
        TrustBundle again = SpiffeBundleJson.decode(EXAMPLE, SpiffeBundleJson.encode(bundle));
        assertThat(again.jwtAuthorities()).isEqualTo(bundle.jwtAuthorities());
    }

    @Test
    void x509KeyWithoutX5cIsIgnoredAndOnlyTheFirstX5cCounts() throws Exception {
        String json = """
                {"keys": [
                  {"kty": "EC", "use": "x509-svid"},
                  {"kty": "EC", "use": "x509-svid", "x5c": []},
                  {"kty": "EC", "use": "x509-svid", "x5c": ["%s", "%s"]}
                ]}
                """.formatted(b64(pki.root()), b64(second.root()));
        assertThat(SpiffeBundleJson.decode(EXAMPLE, json).x509Authorities()).containsExactly(pki.root());
    }

    @Test
    void absentSequenceAndHintDecodeAsDefaults() {
        TrustBundle bundle = SpiffeBundleJson.decode(EXAMPLE, "{\"keys\": []}");
        assertThat(bundle.sequenceNumber()).isZero();
        assertThat(bundle.refreshHint()).isEmpty();
        assertThat(bundle.x509Authorities()).isEmpty();
    }

    @Test
    void malformedBundlesAreClearErrors() {
        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE, "{\"keys\": [}"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("not valid JSON at line 1");
        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE, "{\"spiffe_sequence\": 1}"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("no 'keys' array");
        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE, "[]"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("JSON object");
        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE,
                "{\"keys\": [{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[\"bm90IGEgY2VydA==\"]}]}"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("keys[0].x5c[0]")
                .hasMessageContaining("not a DER X.509 certificate");
        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE, "{\"keys\": [], \"spiffe_sequence\": -1}"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("spiffe_sequence");
        assertThatThrownBy(() -> SpiffeBundleJson.decode(EXAMPLE,
                "{\"keys\": [{\"kty\":\"EC\",\"use\":\"jwt-svid\"}]}"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("without the required 'kid'");
    }

    @Test
    void bundleFilesRecogniseBothFormatsAndNameTheTrustDomain() {
        TrustBundle bundle = TrustBundle.builder(EXAMPLE).x509Authorities(List.of(pki.root())).sequenceNumber(3).build();
        String json = BundleFiles.encode(bundle, BundleFiles.Format.SPIFFE);
        String pem = BundleFiles.encode(bundle, BundleFiles.Format.PEM);
        assertThat(BundleFiles.detect(json)).isEqualTo(BundleFiles.Format.SPIFFE);
        assertThat(BundleFiles.detect(pem)).isEqualTo(BundleFiles.Format.PEM);
        // The trust domain comes from the roots' spiffe:// URI SAN when not given.
        assertThat(BundleFiles.parse(json, Optional.empty())).isEqualTo(bundle);
        assertThat(BundleFiles.parse(pem, Optional.empty()).sameContentAs(bundle)).isTrue();
        assertThatThrownBy(() -> BundleFiles.detect("hello"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("neither SPIFFE bundle JSON");
    }

    @Test
    void bundleSetVersionsAdvanceOnChange() {
        BundleSet set = BundleSet.of(1, List.of(pki.bundle()));
        TestPki west = TestPki.create("west.example", NOW);
        BundleSet two = set.with(west.bundle());
        assertThat(two.version()).isEqualTo(2);
        assertThat(two.trustDomains()).extracting(TrustDomain::name).containsExactly("example.com", "west.example");
        assertThat(two.without(west.trustDomain()).version()).isEqualTo(3);
        assertThat(set.without(west.trustDomain())).isSameAs(set);
        assertThatThrownBy(() -> BundleSet.of(1, List.of(pki.bundle(), second.bundle())))
                .hasMessageContaining("two bundles for trust domain example.com");
    }

    @Test
    void aFederatedBundleMustHoldCaRootsOfItsOwnTrustDomainAndNotTooManyKeys() {
        String good = SpiffeBundleJson.encode(TrustBundle.of(EXAMPLE, List.of(pki.root())));
        assertThat(SpiffeBundleJson.decodeFederated(EXAMPLE, good).x509Authorities()).containsExactly(pki.root());

        String leaf = SpiffeBundleJson.encode(TrustBundle.of(EXAMPLE, List.of(pki.svid("/ns/a/sa/b").leaf())));
        assertThatThrownBy(() -> SpiffeBundleJson.decodeFederated(EXAMPLE, leaf))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("is not a CA certificate");

        TestPki other = TestPki.create("other.example", NOW);
        String foreign = SpiffeBundleJson.encode(TrustBundle.of(EXAMPLE, List.of(other.root())));
        assertThatThrownBy(() -> SpiffeBundleJson.decodeFederated(EXAMPLE, foreign))
                .isInstanceOf(TrustFormatException.class)
                .hasMessageContaining("names trust domain other.example, not example.com");

        assertThatThrownBy(() -> SpiffeBundleJson.decodeFederated(EXAMPLE, "{\"keys\": []}"))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("no x509-svid authority");

        StringBuilder many = new StringBuilder("{\"keys\": [");
        for (int i = 0; i <= SpiffeBundleJson.MAX_FEDERATED_KEYS; i++) {
            many.append(i == 0 ? "" : ",").append("{\"kty\":\"EC\",\"use\":\"other\"}");
        }
        String tooMany = many.append("]}").toString();
        assertThatThrownBy(() -> SpiffeBundleJson.decodeFederated(EXAMPLE, tooMany))
                .isInstanceOf(TrustFormatException.class).hasMessageContaining("at most 64 are accepted");
    }
}
