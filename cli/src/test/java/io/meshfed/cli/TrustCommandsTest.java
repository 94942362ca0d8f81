package io.meshfed.cli;

import static io.meshfed.cli.CliRunner.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.cli.CliRunner.Result;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrustCommandsTest {
    private static final String HELLO = "spiffe://east.acme.mesh/ns/demo/sa/hello";

    @TempDir
    Path dir;
    private Path ca;

    @BeforeEach
    void createCa() {
        ca = dir.resolve("east");
        Result r = run("trust", "ca", "init", "--trust-domain", "east.acme.mesh", "--dir", ca.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    private static void assertOneLineError(Result r, int exit, String text) {
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(exit);
        assertThat(r.err()).as(r.toString()).contains(text).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void caInitCreatesTheCaAndSaysWhatItDid() throws Exception {
        assertThat(Files.exists(ca.resolve("root.crt.pem"))).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve("ca.kek"))))
                .isEqualTo("rw-------");
        Result again = run("trust", "ca", "init", "--trust-domain", "east.acme.mesh", "--dir", ca.toString());
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).startsWith("CA for trust domain east.acme.mesh already exists in " + ca + "; kept it");
        assertThat(again.out()).contains("sha256 " + SvidCertificates.sha256Fingerprint(
                Pem.readCertificates(Files.readString(ca.resolve("root.crt.pem"))).get(0)));
    }

    @Test
    void caInitRefusesAnotherTrustDomainInTheSameDirectory() {
        assertOneLineError(run("trust", "ca", "init", "--trust-domain", "west.acme.mesh", "--dir", ca.toString()), 1,
                "already holds the CA of trust domain east.acme.mesh");
    }

    @Test
    void caInitRejectsBadInput() {
        assertOneLineError(run("trust", "ca", "init", "--trust-domain", "East.Acme", "--dir", dir.resolve("x").toString()),
                1, "invalid SPIFFE ID 'East.Acme'");
        assertOneLineError(run("trust", "ca", "init", "--trust-domain", "a.b", "--dir", dir.resolve("x").toString(),
                "--key-type", "dsa"), 1, "unknown key algorithm 'dsa'");
        assertOneLineError(run("trust", "ca", "init", "--trust-domain", "a.b", "--dir", dir.resolve("x").toString(),
                "--root-ttl", "ten years"), 2, "invalid duration 'ten years'");
        assertOneLineError(run("trust", "ca", "init", "--dir", dir.resolve("x").toString()), 2,
                "Missing required option: '--trust-domain=TD'");
    }

    @Test
    void issueThenVerify() throws Exception {
        String prefix = dir.resolve("hello").toString();
        Result issued = run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out", prefix,
                "--ttl", "2h");
        assertThat(issued.exitCode()).as(issued.toString()).isZero();
        assertThat(issued.out()).startsWith("Issued " + HELLO + " (serial ");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(prefix + ".key.pem"))))
                .isEqualTo("rw-------");
        List<X509Certificate> chain = SvidFiles.readChain(Path.of(prefix + ".crt.pem"));
        assertThat(chain).hasSize(2);
        Duration lifetime = Duration.between(chain.get(0).getNotBefore().toInstant(),
                chain.get(0).getNotAfter().toInstant());
        assertThat(lifetime).isBetween(Duration.ofHours(2), Duration.ofHours(2).plusMinutes(1));
        assertThat(SvidFiles.read(Path.of(prefix + ".crt.pem"), Path.of(prefix + ".key.pem")).id().toString())
                .isEqualTo(HELLO);

        Result ok = run("trust", "verify", "--bundle", ca.resolve("bundle.json").toString(), "--svid",
                prefix + ".crt.pem", "--expect-id", HELLO);
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).startsWith("valid: " + HELLO + " (serial ").endsWith(")\n");
        assertThat(ok.out().lines()).hasSize(1);

        Result wrongId = run("trust", "verify", "--bundle", ca.resolve("bundle.pem").toString(), "--svid",
                prefix + ".crt.pem", "--expect-id", "spiffe://east.acme.mesh/ns/demo/sa/other");
        assertThat(wrongId.exitCode()).isEqualTo(1);
        assertThat(wrongId.out()).startsWith("not valid (unexpected_id): SVID is for " + HELLO);
    }

    @Test
    void verifyAgainstAnotherTrustDomainsBundleFails() {
        Path west = dir.resolve("west");
        assertThat(run("trust", "ca", "init", "--trust-domain", "west.acme.mesh", "--dir", west.toString()).exitCode())
                .isZero();
        String prefix = dir.resolve("hello").toString();
        run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out", prefix);
        Result r = run("trust", "verify", "--bundle", west.resolve("bundle.json").toString(), "--svid",
                prefix + ".crt.pem");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).startsWith("not valid (unknown_trust_domain): no trust bundle for trust domain east.acme.mesh");
        // With both bundles in the set it verifies.
        Result both = run("trust", "verify", "--bundle", west.resolve("bundle.json").toString(), "--bundle",
                ca.resolve("bundle.json").toString(), "--svid", prefix + ".crt.pem");
        assertThat(both.exitCode()).as(both.toString()).isZero();
    }

    @Test
    void verifyReportsAnExpiredSvid() throws Exception {
        TestPki pki = TestPki.create("east.acme.mesh", Instant.now());
        Files.writeString(dir.resolve("bundle.pem"), Pem.writeCertificates(List.of(pki.root())));
        Files.writeString(dir.resolve("old.pem"), Pem.writeCertificates(pki.leaf("/ns/demo/sa/hello")
                .validity(Instant.now().minus(Duration.ofHours(3)), Instant.now().minus(Duration.ofHours(1)))
                .buildChain()));
        Result r = run("trust", "verify", "--bundle", dir.resolve("bundle.pem").toString(), "--svid",
                dir.resolve("old.pem").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).startsWith("not valid (expired): leaf " + HELLO + " expired at");
    }

    @Test
    void issueFromACsrKeepsTheKeyWithTheRequester() throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        Path csr = dir.resolve("req.csr");
        Files.writeString(csr, Pem.writeCsr(CertificateSigningRequests.create(keys, SpiffeId.parse(HELLO))));
        String prefix = dir.resolve("from-csr").toString();
        Result r = run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out", prefix,
                "--csr", csr.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(Files.exists(Path.of(prefix + ".key.pem"))).isFalse();
        assertThat(SvidFiles.readChain(Path.of(prefix + ".crt.pem")).get(0).getPublicKey()).isEqualTo(keys.getPublic());

        Result mismatch = run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id",
                "spiffe://east.acme.mesh/ns/demo/sa/other", "--out", prefix, "--csr", csr.toString());
        assertOneLineError(mismatch, 1, "refused to issue spiffe://east.acme.mesh/ns/demo/sa/other: the CSR asks for");
    }

    @Test
    void issueRefusesIdsOfOtherTrustDomainsAndBadInput() throws Exception {
        String prefix = dir.resolve("x").toString();
        assertOneLineError(run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id",
                "spiffe://west.acme.mesh/a", "--out", prefix), 1, "this CA issues only for east.acme.mesh");
        assertOneLineError(run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id",
                "spiffe://east.acme.mesh/a/", "--out", prefix), 1, "must not end with '/'");
        assertOneLineError(run("trust", "issue", "--ca-dir", dir.resolve("nope").toString(), "--spiffe-id", HELLO,
                "--out", prefix), 1, "does not exist");
        Files.writeString(dir.resolve("bad.csr"), "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
        assertOneLineError(run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out", prefix,
                "--csr", dir.resolve("bad.csr").toString()), 1, "bad.csr");
        assertThat(Files.exists(Path.of(prefix + ".crt.pem"))).as("nothing written on failure").isFalse();
    }

    @Test
    void wrongKeyEncryptionKeyIsAClearError() throws Exception {
        Path wrong = dir.resolve("wrong.kek");
        Files.writeString(wrong, "this-is-not-the-key-you-want\n");
        Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rw-------"));
        assertOneLineError(run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out",
                dir.resolve("x").toString(), "--kek-file", wrong.toString()), 1,
                "is not the key-encryption key this CA was created with");
        Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rw-r--r--"));
        assertOneLineError(run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out",
                dir.resolve("x").toString(), "--kek-file", wrong.toString()), 1, "chmod 600");
        assertOneLineError(run("trust", "issue", "--ca-dir", ca.toString(), "--spiffe-id", HELLO, "--out",
                dir.resolve("x").toString(), "--kek-env", "MESHFED_TEST_SURELY_UNSET"), 1,
                "environment variable MESHFED_TEST_SURELY_UNSET is not set");
    }

    @Test
    void unreadableAndMalformedFilesGiveOneLine() throws Exception {
        assertOneLineError(run("trust", "verify", "--bundle", dir.resolve("missing.json").toString(), "--svid",
                dir.resolve("x.pem").toString()), 1, "cannot read " + dir.resolve("missing.json") + ": no such file");
        Files.writeString(dir.resolve("broken.json"), "{\"keys\": [");
        assertOneLineError(run("trust", "bundle", "show", dir.resolve("broken.json").toString()), 1,
                "broken.json: SPIFFE bundle is not valid JSON");
        Files.writeString(dir.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        Result r = run("trust", "verify", "--bundle", ca.resolve("bundle.json").toString(), "--svid",
                dir.resolve("garbage.pem").toString());
        assertOneLineError(r, 1, "garbage.pem");
    }

    @Test
    void debugShowsTheStackTrace() {
        Result r = run("--debug", "trust", "bundle", "show", dir.resolve("missing.json").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("\tat ").contains("meshfed: cannot read");
    }

    @Test
    void usageErrorsExitWithTwo() {
        Result r = run("trust", "verify", "--bundle", "x.json");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--svid=FILE'")
                .contains("Try 'meshfed trust verify --help'");
        assertThat(run("trust", "nonsense").exitCode()).isEqualTo(2);
    }

    @Test
    void bundleShowPrintsTrustDomainSequenceAndRoots() throws Exception {
        Result r = run("trust", "bundle", "show", ca.resolve("bundle.json").toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        X509Certificate root = Pem.readCertificates(Files.readString(ca.resolve("root.crt.pem"))).get(0);
        assertThat(r.out()).isEqualTo("""
                trust domain  east.acme.mesh
                format        spiffe
                sequence      1
                refresh hint  5m
                roots         1
                  [1] subject    %s
                      sha256     %s
                      not after  %s
                """.formatted(root.getSubjectX500Principal().getName(), SvidCertificates.sha256Fingerprint(root),
                root.getNotAfter().toInstant()));
    }

    @Test
    void bundleConvertRoundTripsAndNeedsATrustDomainForAnonymousPem() throws Exception {
        Result toPem = run("trust", "bundle", "convert", "--to", "pem", ca.resolve("bundle.json").toString());
        assertThat(toPem.exitCode()).isZero();
        Files.writeString(dir.resolve("b.pem"), toPem.out());
        Result toJson = run("trust", "bundle", "convert", "--to", "spiffe", dir.resolve("b.pem").toString(),
                "--sequence", "9");
        assertThat(toJson.exitCode()).as(toJson.toString()).isZero();
        TrustBundle original = BundleFiles.read(ca.resolve("bundle.json"), Optional.empty());
        TrustBundle back = BundleFiles.parse(toJson.out(), Optional.empty());
        assertThat(back.sameContentAs(original)).isTrue();
        assertThat(back.sequenceNumber()).isEqualTo(9);

        // A root without a spiffe:// SAN (e.g. from Istio's cacerts) needs the trust domain named.
        var keys = KeyAlgorithm.EC_P256.generate();
        X509Certificate anonymous = io.meshfed.trust.internal.CertificateBuilder.builder().subject("CN=istio root")
                .selfSigned(keys.getPublic(), keys.getPrivate())
                .validity(Instant.now(), Instant.now().plus(Duration.ofDays(1))).ca(true, null)
                .keyUsage(org.bouncycastle.asn1.x509.KeyUsage.keyCertSign).build();
        Files.writeString(dir.resolve("istio-root.pem"), Pem.writeCertificates(List.of(anonymous)));
        assertOneLineError(run("trust", "bundle", "convert", "--to", "spiffe", dir.resolve("istio-root.pem").toString()),
                1, "cannot tell the trust domain");
        Result named = run("trust", "bundle", "convert", "--to", "spiffe", dir.resolve("istio-root.pem").toString(),
                "--trust-domain", "cluster.local");
        assertThat(named.exitCode()).isZero();
        assertThat(named.out()).contains("\"use\" : \"x509-svid\"").contains("\"spiffe_sequence\" : 1");
        assertOneLineError(run("trust", "bundle", "convert", "--to", "der", ca.resolve("bundle.json").toString()), 2,
                "unknown bundle format 'der'");
    }
}
