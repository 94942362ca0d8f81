package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.Durations;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.BuiltinCertificateAuthority;
import io.meshfed.trust.ca.KeyEncryptionKey;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code meshfed trust ca init}: creates a builtin CA, or keeps the one already there for the same trust domain. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Create a builtin CA (root and signing intermediate) for a trust domain in DIR.",
            "Private keys are stored encrypted under a key-encryption key. Running it again on the same DIR and",
            "trust domain keeps the existing CA."})
public final class CaInitCommand implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--trust-domain", required = true, paramLabel = "TD", description = "e.g. east.acme.mesh")
    String trustDomain;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Directory for the CA's files.")
    Path dir;

    @Option(names = "--key-type", paramLabel = "TYPE", defaultValue = "ec-p256",
            description = "ec-p256 (default), ec-p384, rsa-2048 or rsa-3072.")
    String keyType;

    @Option(names = "--root-ttl", paramLabel = "DURATION", defaultValue = "3650d", converter = Durations.class,
            description = "Root lifetime (default ${DEFAULT-VALUE}).")
    Duration rootTtl;

    @Option(names = "--intermediate-ttl", paramLabel = "DURATION", defaultValue = "365d",
            converter = Durations.class, description = "Signing intermediate lifetime (default ${DEFAULT-VALUE}).")
    Duration intermediateTtl;

    @Mixin
    KekOptions kek;

    CaInitCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        PrintWriter out = context.out();
        TrustDomain td = TrustDomain.parse(trustDomain);
        KeyAlgorithm algorithm;
        BuiltinCertificateAuthority.Options options;
        try {
            algorithm = KeyAlgorithm.parse(keyType);
            options = new BuiltinCertificateAuthority.Options(algorithm, rootTtl, intermediateTtl);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (BuiltinCertificateAuthority.exists(dir)) {
            BuiltinCertificateAuthority existing = BuiltinCertificateAuthority.load(dir, kek.load(dir), context.clock());
            if (!existing.trustDomain().equals(td)) {
                throw new CliException(dir + " already holds the CA of trust domain " + existing.trustDomain()
                        + "; choose another --dir for " + td);
            }
            out.println("CA for trust domain " + td + " already exists in " + dir + "; kept it");
            describe(out, existing);
            return 0;
        }
        KeyEncryptionKey key = kek.loadOrCreate(dir);
        BuiltinCertificateAuthority ca = BuiltinCertificateAuthority.create(dir, td, key, options, context.clock());
        out.println("Created builtin CA for trust domain " + td + " in " + dir);
        describe(out, ca);
        out.println("  private keys  encrypted (PKCS#8, PBES2 AES-256) with " + key.source());
        return 0;
    }

    private static void describe(PrintWriter out, BuiltinCertificateAuthority ca) {
        line(out, "root", ca.rootCertificates().get(0));
        line(out, "intermediate", ca.intermediateCertificate());
        out.println("  bundle        " + ca.directory().resolve(BuiltinCertificateAuthority.BUNDLE_JSON)
                + " (SPIFFE), " + ca.directory().resolve(BuiltinCertificateAuthority.BUNDLE_PEM) + " (PEM)");
    }

    private static void line(PrintWriter out, String what, X509Certificate cert) {
        out.printf("  %-13s %s, expires %s%n", what, cert.getSubjectX500Principal().getName(),
                cert.getNotAfter().toInstant());
        out.printf("  %-13s sha256 %s%n", "", SvidCertificates.sha256Fingerprint(cert));
    }
}
