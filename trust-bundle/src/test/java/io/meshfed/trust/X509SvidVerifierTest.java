package io.meshfed.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.SvidVerificationException.Reason;
import io.meshfed.trust.testing.MutableClock;
import io.meshfed.trust.testing.TestPki;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;

class X509SvidVerifierTest {
    private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");

    private final MutableClock clock = new MutableClock(NOW);
    private final TestPki east = TestPki.create("east.acme.mesh", NOW);
    private final TestPki west = TestPki.create("west.acme.mesh", NOW);
    private final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
    private final X509SvidVerifier verifier = new X509SvidVerifier(clock);

    @Test
    void validSvidVerifiesAndYieldsItsId() throws Exception {
        X509Svid svid = east.svid("/ns/demo/sa/hello");
        assertThat(verifier.verify(svid.chain(), bundles))
                .isEqualTo(SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/sa/hello"));
    }

    @Test
    void leafSignedDirectlyByRootVerifies() throws Exception {
        assertThat(verifier.verify(east.leaf("/a").signedByRoot().buildChain(), bundles).path()).isEqualTo("/a");
    }

    @Test
    void chainThatIncludesTheRootStillVerifies() throws Exception {
        List<X509Certificate> chain = new ArrayList<>(east.leaf("/a").buildChain());
        chain.add(east.root());
        assertThat(verifier.verify(chain, bundles).path()).isEqualTo("/a");
    }

    @Test
    void expectedIdMismatchIsRejected() {
        X509Svid svid = east.svid("/a");
        expect(() -> verifier.verify(svid.chain(), bundles, SpiffeId.parse("spiffe://east.acme.mesh/b")),
                Reason.UNEXPECTED_ID, "expected spiffe://east.acme.mesh/b");
    }

    @Test
    void caFlagOnLeafIsRejected() {
        expect(east.leaf("/a").ca().keyUsage(KeyUsage.digitalSignature).buildChain(), Reason.LEAF_IS_CA, "cA=true");
    }

    @Test
    void twoUriSansAreRejected() {
        expect(east.leaf("/a").extraUri("spiffe://east.acme.mesh/b").buildChain(), Reason.MULTIPLE_URI_SANS,
                "has 2 URI SANs");
    }

    @Test
    void noUriSanIsRejected() {
        expect(east.leaf("/a").noUri().buildChain(), Reason.NO_URI_SAN, "no URI SAN");
    }

    @Test
    void nonSpiffeUriSanIsRejected() {
        expect(east.leaf("/a").noUri().extraUri("https://east.acme.mesh/a").buildChain(), Reason.INVALID_SPIFFE_ID,
                "scheme");
    }

    @Test
    void keyCertSignOnLeafIsRejected() {
        expect(east.leaf("/a").keyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign).buildChain(),
                Reason.LEAF_KEY_USAGE, "keyCertSign");
    }

    @Test
    void crlSignOnLeafIsRejected() {
        expect(east.leaf("/a").keyUsage(KeyUsage.digitalSignature | KeyUsage.cRLSign).buildChain(),
                Reason.LEAF_KEY_USAGE, "cRLSign");
    }

    @Test
    void leafWithoutDigitalSignatureIsRejected() {
        expect(east.leaf("/a").keyUsage(KeyUsage.keyEncipherment).buildChain(), Reason.LEAF_KEY_USAGE,
                "digitalSignature");
    }

    @Test
    void chainToAnotherTrustDomainsRootIsRejected() {
        // The leaf claims east but is issued by west's intermediate. West's root is in the set, yet only east's
        // bundle may verify an east ID.
        expect(impostorChainClaimingEast(west), Reason.UNTRUSTED_CHAIN,
                "does not chain to a root of trust domain east.acme.mesh");
    }

    /** An SVID for spiffe://east.acme.mesh/... signed by west's intermediate. */
    private static List<X509Certificate> impostorChainClaimingEast(TestPki west) {
        var keys = KeyAlgorithm.EC_P256.generate();
        X509Certificate leaf = io.meshfed.trust.internal.CertificateBuilder.builder()
                .subject("O=impostor")
                .issuedBy(west.intermediate(), west.intermediateKeys().getPrivate())
                .publicKey(keys.getPublic())
                .validity(NOW.minus(Duration.ofHours(1)), NOW.plus(Duration.ofHours(1)))
                .ca(false, null)
                .keyUsage(KeyUsage.digitalSignature)
                .uriSan("spiffe://east.acme.mesh/ns/demo/sa/hello")
                .build();
        return List.of(leaf, west.intermediate());
    }

    @Test
    void unknownTrustDomainIsRejected() {
        TestPki north = TestPki.create("north.acme.mesh", NOW);
        expect(north.leaf("/a").buildChain(), Reason.UNKNOWN_TRUST_DOMAIN, "no trust bundle for trust domain north");
    }

    @Test
    void expiredLeafIsRejected() {
        expect(east.leaf("/a").validity(NOW.minus(Duration.ofHours(2)), NOW.minus(Duration.ofHours(1))).buildChain(),
                Reason.EXPIRED, "expired at");
    }

    @Test
    void expiryFollowsTheInjectedClock() throws Exception {
        List<X509Certificate> chain = east.leaf("/a").validity(NOW.minus(Duration.ofMinutes(1)),
                NOW.plus(Duration.ofMinutes(10))).buildChain();
        assertThat(verifier.verify(chain, bundles)).isNotNull();
        clock.advance(Duration.ofMinutes(11));
        expect(chain, Reason.EXPIRED, "expired at");
    }

    @Test
    void notYetValidLeafIsRejected() {
        expect(east.leaf("/a").validity(NOW.plus(Duration.ofHours(1)), NOW.plus(Duration.ofHours(2))).buildChain(),
                Reason.NOT_YET_VALID, "not valid before");
    }

    @Test
    void wrongSignatureIsRejected() {
        expect(east.leaf("/a").forgedSignature().buildChain(), Reason.BAD_SIGNATURE, "signature");
    }

    @Test
    void leafPosingAsSigningCertificateIsRejected() {
        // A valid SVID used as if it were an intermediate: not a CA.
        X509Svid other = east.svid("/b");
        List<X509Certificate> chain = List.of(east.leaf("/a").buildChain().get(0), other.leaf());
        expect(chain, Reason.SIGNER_NOT_CA, "is not a CA");
    }

    @Test
    void emptyChainIsRejected() {
        expect(List.of(), Reason.EMPTY_CHAIN, "no certificate");
    }

    private void expect(List<X509Certificate> chain, Reason reason, String messagePart) {
        expect(() -> verifier.verify(chain, bundles), reason, messagePart);
    }

    private static void expect(ThrowingCallable call, Reason reason, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(SvidVerificationException.class, e -> {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.getMessage()).contains(messagePart);
        });
    }
}
