package io.meshfed.trust.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.X509SvidVerifier;
import io.meshfed.trust.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BuiltinCertificateAuthorityTest extends CertificateAuthorityContract {
    private static final Duration INTERMEDIATE_TTL = Duration.ofDays(30);
    private KeyEncryptionKey kek;

    @Override
    protected CertificateAuthority newCa(Path dir, MutableClock clock) {
        kek = KeyEncryptionKey.createFile(dir.resolve("kek"));
        return BuiltinCertificateAuthority.create(dir.resolve("ca"), TD, kek,
                new BuiltinCertificateAuthority.Options(KeyAlgorithm.EC_P256, Duration.ofDays(365), INTERMEDIATE_TTL),
                clock);
    }

    @Override
    protected Instant signingNotAfter() {
        return NOW.plus(INTERMEDIATE_TTL);
    }

    @Test
    void survivesAReloadFromDisk() throws Exception {
        BuiltinCertificateAuthority reloaded = BuiltinCertificateAuthority.load(dir.resolve("ca"),
                KeyEncryptionKey.fromFile(dir.resolve("kek")), clock);
        assertThat(reloaded.trustDomain()).isEqualTo(TD);
        assertThat(reloaded.rootCertificates()).isEqualTo(ca.rootCertificates());
        assertThat(reloaded.signingChain()).isEqualTo(ca.signingChain());
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        IssuedSvid issued = reloaded.issue(SvidRequest.of(CertificateSigningRequests.createDer(keys, HELLO), HELLO,
                Duration.ofHours(1)), IssuancePolicy.anyInTrustDomain());
        // An SVID from the reloaded CA verifies against the bundle the first instance published.
        assertThat(new X509SvidVerifier(clock).verify(issued.chain(), BundleSet.of(ca.bundle()))).isEqualTo(HELLO);
    }

    @Test
    void refusesAWrongKeyEncryptionKey() {
        KeyEncryptionKey wrong = KeyEncryptionKey.of("not-the-right-key-at-all".toCharArray(), "test key");
        assertThatThrownBy(() -> BuiltinCertificateAuthority.load(dir.resolve("ca"), wrong, clock))
                .isInstanceOf(CaException.class)
                .hasMessageContaining("test key is not the key-encryption key this CA was created with");
    }

    @Test
    void privateKeysAreEncryptedAndOwnerOnly() throws Exception {
        Path caDir = dir.resolve("ca");
        for (String f : new String[] {BuiltinCertificateAuthority.ROOT_KEY, BuiltinCertificateAuthority.INTERMEDIATE_KEY}) {
            String pem = Files.readString(caDir.resolve(f));
            assertThat(pem).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----").doesNotContain("BEGIN PRIVATE KEY");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve(f))))
                    .isEqualTo("rw-------");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("kek"))))
                .isEqualTo("rw-------");
        String kekText = Files.readString(dir.resolve("kek")).strip();
        assertThat(kekText).hasSizeGreaterThanOrEqualTo(43);
        assertThat(kek.toString()).doesNotContain(kekText);
    }

    @Test
    void publishesItsBundleInBothFormats() {
        Path caDir = dir.resolve("ca");
        TrustBundle json = BundleFiles.read(caDir.resolve(BuiltinCertificateAuthority.BUNDLE_JSON), Optional.empty());
        TrustBundle pem = BundleFiles.read(caDir.resolve(BuiltinCertificateAuthority.BUNDLE_PEM), Optional.empty());
        assertThat(json.trustDomain()).isEqualTo(TD);
        assertThat(json.sameContentAs(ca.bundle())).isTrue();
        assertThat(pem.sameContentAs(ca.bundle())).isTrue();
        assertThat(json.sequenceNumber()).isEqualTo(1);
    }

    @Test
    void refusesToOverwriteAnExistingCa() {
        assertThatThrownBy(() -> BuiltinCertificateAuthority.create(dir.resolve("ca"), TD, kek,
                BuiltinCertificateAuthority.Options.DEFAULTS, clock))
                .isInstanceOf(CaException.class).hasMessageContaining("a CA already exists");
    }

    @Test
    void interruptedCreationIsReportedAndCanBeCompleted() throws Exception {
        Path caDir = dir.resolve("ca");
        Files.delete(caDir.resolve(BuiltinCertificateAuthority.ROOT_CERT)); // as if killed before the last write
        assertThatThrownBy(() -> BuiltinCertificateAuthority.load(caDir, kek, clock))
                .isInstanceOf(CaException.class).hasMessageContaining("incomplete CA");
        BuiltinCertificateAuthority again = BuiltinCertificateAuthority.create(caDir, TD, kek,
                BuiltinCertificateAuthority.Options.DEFAULTS, clock);
        assertThat(BuiltinCertificateAuthority.load(caDir, kek, clock).rootCertificates())
                .isEqualTo(again.rootCertificates());
    }

    @Test
    void missingDirectoryIsAClearError() {
        assertThatThrownBy(() -> BuiltinCertificateAuthority.load(dir.resolve("nothing"), kek, clock))
                .isInstanceOf(CaException.class).hasMessageContaining("no CA in").hasMessageContaining("ca init");
    }

    @Test
    void rsaCaIssuesVerifiableSvids() throws Exception {
        BuiltinCertificateAuthority rsa = BuiltinCertificateAuthority.create(dir.resolve("rsa"), TD, kek,
                BuiltinCertificateAuthority.Options.DEFAULTS.withKeyAlgorithm(KeyAlgorithm.RSA_2048), clock);
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        IssuedSvid issued = rsa.issue(SvidRequest.of(CertificateSigningRequests.createDer(keys, HELLO), HELLO,
                Duration.ofHours(1)), IssuancePolicy.anyInTrustDomain());
        assertThat(issued.chain().get(1).getPublicKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(new X509SvidVerifier(clock).verify(issued.chain(), BundleSet.of(rsa.bundle()))).isEqualTo(HELLO);
    }
}
