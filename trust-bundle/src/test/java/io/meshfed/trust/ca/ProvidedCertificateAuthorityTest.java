package io.meshfed.trust.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509SvidVerifier;
import io.meshfed.trust.internal.CertificateBuilder;
import io.meshfed.trust.testing.MutableClock;
import io.meshfed.trust.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;

/** Runs the CA contract on an Istio-style cacerts directory, and checks every loading error. */
class ProvidedCertificateAuthorityTest extends CertificateAuthorityContract {
    private TestPki pki;

    @Override
    protected CertificateAuthority newCa(Path dir, MutableClock clock) throws Exception {
        pki = TestPki.create(TD.name(), NOW);
        write(dir.resolve("ca-cert.pem"), pki.intermediate());
        Files.writeString(dir.resolve("ca-key.pem"), Pem.writePrivateKey(pki.intermediateKeys().getPrivate()));
        write(dir.resolve("cert-chain.pem"), pki.intermediate(), pki.root());
        write(dir.resolve("root-cert.pem"), pki.root());
        return load(dir, "cert-chain.pem", Optional.of("root-cert.pem"));
    }

    @Override
    protected Instant signingNotAfter() {
        return pki.intermediate().getNotAfter().toInstant();
    }

    private ProvidedCertificateAuthority load(Path dir, String chain, Optional<String> root) {
        return ProvidedCertificateAuthority.load(TD, dir.resolve("ca-cert.pem"), dir.resolve("ca-key.pem"),
                dir.resolve(chain), root.map(dir::resolve), clock);
    }

    private static void write(Path file, X509Certificate... certs) throws Exception {
        Files.writeString(file, Pem.writeCertificates(List.of(certs)));
    }

    @Test
    void chainFileWithoutTheRootIsCompletedByTheRootFile() throws Exception {
        write(dir.resolve("only-root.pem"), pki.root());
        ProvidedCertificateAuthority loaded = load(dir, "only-root.pem", Optional.empty());
        assertThat(loaded.rootCertificates()).containsExactly(pki.root());
        assertThat(loaded.signingChain()).containsExactly(pki.intermediate());
    }

    @Test
    void threeLevelChainIsAccepted() throws Exception {
        KeyPair issuingKeys = KeyAlgorithm.EC_P256.generate();
        X509Certificate issuing = CertificateBuilder.builder()
                .subject("CN=issuing,O=meshfed-test")
                .issuedBy(pki.intermediate(), pki.intermediateKeys().getPrivate())
                .publicKey(issuingKeys.getPublic())
                .validity(NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(10)))
                .ca(true, null)
                .keyUsage(KeyUsage.keyCertSign)
                .build();
        // pathLen 0 on the intermediate forbids a CA below it: path validation must catch that at verify time,
        // so build the three levels from the root directly instead.
        KeyPair midKeys = KeyAlgorithm.EC_P256.generate();
        X509Certificate mid = CertificateBuilder.builder()
                .subject("CN=mid,O=meshfed-test")
                .issuedBy(pki.root(), pki.rootKeys().getPrivate())
                .publicKey(midKeys.getPublic())
                .validity(NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(100)))
                .ca(true, 1)
                .keyUsage(KeyUsage.keyCertSign)
                .build();
        issuing = CertificateBuilder.builder()
                .subject("CN=issuing,O=meshfed-test")
                .issuedBy(mid, midKeys.getPrivate())
                .publicKey(issuingKeys.getPublic())
                .validity(NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(10)))
                .ca(true, 0)
                .keyUsage(KeyUsage.keyCertSign)
                .build();
        Path d = Files.createDirectories(dir.resolve("three"));
        write(d.resolve("ca-cert.pem"), issuing);
        Files.writeString(d.resolve("ca-key.pem"), Pem.writePrivateKey(issuingKeys.getPrivate()));
        write(d.resolve("cert-chain.pem"), issuing, mid, pki.root());
        ProvidedCertificateAuthority three = load(d, "cert-chain.pem", Optional.empty());
        assertThat(three.signingChain()).containsExactly(issuing, mid);

        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        IssuedSvid issued = three.issue(SvidRequest.of(CertificateSigningRequests.createDer(keys, HELLO), HELLO,
                Duration.ofHours(1)), IssuancePolicy.anyInTrustDomain());
        assertThat(issued.chain()).hasSize(3);
        assertThat(new X509SvidVerifier(clock).verify(issued.chain(), BundleSet.of(three.bundle()))).isEqualTo(HELLO);
    }

    @Test
    void keyThatDoesNotMatchTheCertificateIsRefused() throws Exception {
        Files.writeString(dir.resolve("ca-key.pem"), Pem.writePrivateKey(pki.rootKeys().getPrivate()));
        assertThatThrownBy(() -> load(dir, "cert-chain.pem", Optional.empty()))
                .isInstanceOf(CaException.class).hasMessageContaining("does not belong to the certificate");
    }

    @Test
    void nonCaCertificateIsRefused() throws Exception {
        TestPki.Leaf leaf = pki.leaf("/not/a/ca");
        write(dir.resolve("ca-cert.pem"), leaf.buildChain().get(0));
        Files.writeString(dir.resolve("ca-key.pem"), Pem.writePrivateKey(leaf.keyPair().getPrivate()));
        assertThatThrownBy(() -> load(dir, "cert-chain.pem", Optional.empty()))
                .isInstanceOf(CaException.class).hasMessageContaining("is not a CA");
    }

    @Test
    void incompleteChainIsRefused() throws Exception {
        write(dir.resolve("no-root.pem"), pki.intermediate());
        assertThatThrownBy(() -> load(dir, "no-root.pem", Optional.empty()))
                .isInstanceOf(CaException.class)
                .hasMessageContaining("the chain is incomplete")
                .hasMessageContaining("add the certificates up to the self-signed root");
    }

    @Test
    void chainFromAnotherRootIsRefused() throws Exception {
        TestPki other = TestPki.create("east.acme.mesh", NOW);
        write(dir.resolve("wrong-root.pem"), other.root());
        assertThatThrownBy(() -> load(dir, "wrong-root.pem", Optional.empty()))
                .isInstanceOf(CaException.class).hasMessageContaining("does not verify with the key of");
    }

    @Test
    void certificateOfAnotherTrustDomainIsRefused() {
        assertThatThrownBy(() -> ProvidedCertificateAuthority.load(TrustDomain.parse("west.acme.mesh"),
                dir.resolve("ca-cert.pem"), dir.resolve("ca-key.pem"), dir.resolve("cert-chain.pem"),
                Optional.empty(), clock))
                .isInstanceOf(CaException.class).hasMessageContaining("is for trust domain east.acme.mesh");
    }

    @Test
    void malformedAndMissingFilesAreClearErrors() throws Exception {
        assertThatThrownBy(() -> load(dir, "missing.pem", Optional.empty()))
                .isInstanceOf(CaException.class).hasMessageContaining("missing.pem: no such file");
        Files.writeString(dir.resolve("ca-key.pem"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> load(dir, "cert-chain.pem", Optional.empty()))
                .isInstanceOf(CaException.class).hasMessageContaining("ca-key.pem: malformed PEM");
        Files.writeString(dir.resolve("ca-key.pem"), "just text\n");
        assertThatThrownBy(() -> load(dir, "cert-chain.pem", Optional.empty()))
                .isInstanceOf(CaException.class).hasMessageContaining("ca-key.pem: no PEM private key block found");
    }
}
