package io.meshfed.trust.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.X509SvidVerifier;
import io.meshfed.trust.ca.IssuanceRefusedException.Reason;
import io.meshfed.trust.testing.MutableClock;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every {@link CertificateAuthority} backend passes (public in the test-jar, so a backend in another
 * package or module runs the same suite). A subclass makes a CA for {@link #TD} whose signing
 * certificate is valid from before {@link #NOW} until {@link #signingNotAfter()}.
 */
public abstract class CertificateAuthorityContract {
    public static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
    public static final TrustDomain TD = TrustDomain.parse("east.acme.mesh");
    public static final SpiffeId HELLO = SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/sa/hello");

    protected final MutableClock clock = new MutableClock(NOW);
    @TempDir
    protected Path dir;
    protected CertificateAuthority ca;

    protected abstract CertificateAuthority newCa(Path dir, MutableClock clock) throws Exception;

    /** When the CA's signing chain expires. */
    protected abstract Instant signingNotAfter();

    @BeforeEach
    public void setUpCa() throws Exception {
        ca = newCa(dir, clock);
    }

    private static byte[] csr(KeyPair keys, SpiffeId id) {
        return CertificateSigningRequests.createDer(keys, id);
    }

    private IssuedSvid issue(SpiffeId id, Duration ttl) throws IssuanceRefusedException {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        return ca.issue(SvidRequest.of(csr(keys, id), id, ttl), IssuancePolicy.anyInTrustDomain());
    }

    @Test
    public void issuedSvidVerifiesAgainstTheCasOwnBundle() throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        IssuedSvid issued = ca.issue(SvidRequest.of(csr(keys, HELLO), HELLO, Duration.ofHours(1)),
                IssuancePolicy.exactly(HELLO));
        assertThat(ca.trustDomain()).isEqualTo(TD);
        assertThat(issued.id()).isEqualTo(HELLO);
        assertThat(new X509SvidVerifier(clock).verify(issued.chain(), BundleSet.of(ca.bundle()), HELLO))
                .isEqualTo(HELLO);
        // The requester's key is the one in the certificate: an X509Svid binds them or refuses.
        X509Svid svid = X509Svid.of(HELLO, issued.chain(), keys.getPrivate());
        assertThat(svid.leaf().getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(issued.chain().subList(1, issued.chain().size())).isEqualTo(ca.signingChain());
    }

    @Test
    public void leafFollowsTheX509SvidProfile() throws Exception {
        X509Certificate leaf = issue(HELLO, Duration.ofHours(1)).leaf();
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        boolean[] usage = leaf.getKeyUsage();
        assertThat(usage[0]).as("digitalSignature").isTrue();
        assertThat(usage[5]).as("keyCertSign").isFalse();
        assertThat(usage[6]).as("cRLSign").isFalse();
        assertThat(leaf.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.15", "2.5.29.19");
    }

    @Test
    public void serialsAreRandomPositiveAndUnique() throws Exception {
        Set<java.math.BigInteger> serials = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            java.math.BigInteger serial = issue(HELLO, Duration.ofHours(1)).leaf().getSerialNumber();
            assertThat(serial.signum()).isPositive();
            // At least 64 bits of randomness (CA/B Forum), at most 20 octets (RFC 5280): Vault's are 160 bits.
            assertThat(serial.bitLength()).isLessThanOrEqualTo(160).isGreaterThan(64);
            serials.add(serial);
        }
        assertThat(serials).hasSize(20);
    }

    @Test
    public void lifetimeIsTheRequestedTtl() throws Exception {
        IssuedSvid issued = issue(HELLO, Duration.ofHours(24));
        assertThat(issued.notAfter()).isEqualTo(NOW.plus(Duration.ofHours(24)));
        assertThat(issued.leaf().getNotBefore().toInstant()).isBeforeOrEqualTo(NOW);
        assertThat(issued.lifetimeCapped()).isFalse();
    }

    @Test
    public void lifetimeIsCappedByTheIssuersExpiry() throws Exception {
        clock.set(signingNotAfter().minus(Duration.ofHours(2)));
        IssuedSvid issued = issue(HELLO, Duration.ofHours(24));
        assertThat(issued.lifetimeCapped()).isTrue();
        assertThat(issued.notAfter()).isEqualTo(signingNotAfter());
    }

    @Test
    public void expiredCaRefusesToIssue() {
        clock.set(signingNotAfter().plus(Duration.ofSeconds(1)));
        expectRefused(() -> issue(HELLO, Duration.ofHours(1)), Reason.CA_NOT_VALID, "valid only from");
    }

    @Test
    public void otherTrustDomainIsRefused() {
        SpiffeId west = SpiffeId.parse("spiffe://west.acme.mesh/ns/demo/sa/hello");
        expectRefused(() -> issue(west, Duration.ofHours(1)), Reason.WRONG_TRUST_DOMAIN,
                "this CA issues only for east.acme.mesh");
    }

    @Test
    public void trustDomainIdItselfIsRefused() {
        expectRefused(() -> issue(TD.id(), Duration.ofHours(1)), Reason.NOT_A_WORKLOAD_ID, "needs a path");
    }

    @Test
    public void policyDecidesWhichIdsAreAllowed() {
        SpiffeId other = SpiffeId.parse("spiffe://east.acme.mesh/ns/prod/sa/db");
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        expectRefused(() -> ca.issue(SvidRequest.of(csr(keys, other), other, Duration.ofHours(1)),
                IssuancePolicy.pathUnder("/ns/demo")), Reason.POLICY, "outside /ns/demo");
    }

    @Test
    public void csrNamingAnotherIdIsRefused() {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        SpiffeId other = SpiffeId.parse("spiffe://east.acme.mesh/ns/demo/sa/other");
        expectRefused(() -> ca.issue(SvidRequest.of(csr(keys, other), HELLO, Duration.ofHours(1)),
                IssuancePolicy.anyInTrustDomain()), Reason.CSR_ID_MISMATCH, "the CSR asks for");
    }

    @Test
    public void csrWithBrokenSignatureIsRefused() {
        byte[] der = csr(KeyAlgorithm.EC_P256.generate(), HELLO);
        der[der.length - 5] ^= 0x55; // inside the signature value
        expectRefused(() -> ca.issue(SvidRequest.of(der, HELLO, Duration.ofHours(1)),
                IssuancePolicy.anyInTrustDomain()), Reason.BAD_CSR_SIGNATURE, "signature");
    }

    @Test
    public void garbageCsrIsRefused() {
        expectRefused(() -> ca.issue(SvidRequest.of(new byte[] {1, 2, 3}, HELLO, Duration.ofHours(1)),
                IssuancePolicy.anyInTrustDomain()), Reason.MALFORMED_CSR, "not a PKCS#10");
    }

    @Test
    public void weakRsaKeyIsRefused() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        KeyPair weak = g.generateKeyPair();
        expectRefused(() -> ca.issue(SvidRequest.of(csr(weak, HELLO), HELLO, Duration.ofHours(1)),
                IssuancePolicy.anyInTrustDomain()), Reason.WEAK_KEY, "2048");
    }

    @Test
    public void rsaRequesterGetsAnSvid() throws Exception {
        KeyPair rsa = KeyAlgorithm.RSA_2048.generate();
        IssuedSvid issued = ca.issue(SvidRequest.of(csr(rsa, HELLO), HELLO, Duration.ofHours(1)),
                IssuancePolicy.anyInTrustDomain());
        assertThat(new X509SvidVerifier(clock).verify(issued.chain(), BundleSet.of(ca.bundle()))).isEqualTo(HELLO);
    }

    @Test
    public void tooShortTtlIsRejectedUpFront() {
        assertThatThrownBy(() -> SvidRequest.of(csr(KeyAlgorithm.EC_P256.generate(), HELLO), HELLO,
                Duration.ofSeconds(30))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttl");
    }

    @Test
    public void bundleHoldsTheRootsOfTheTrustDomain() {
        assertThat(ca.bundle().trustDomain()).isEqualTo(TD);
        assertThat(ca.bundle().x509Authorities()).isEqualTo(ca.rootCertificates()).isNotEmpty();
        List<X509Certificate> roots = ca.rootCertificates();
        assertThat(roots.get(0).getSubjectX500Principal()).isEqualTo(roots.get(0).getIssuerX500Principal());
    }

    public static void expectRefused(ThrowingCallable call, Reason reason, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(IssuanceRefusedException.class, e -> {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.getMessage()).contains(messagePart);
        });
    }
}
