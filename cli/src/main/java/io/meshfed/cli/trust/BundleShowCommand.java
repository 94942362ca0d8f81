package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.Durations;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.TrustBundle;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed trust bundle show FILE}. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print a bundle's trust domain, sequence and, per root, subject, SHA-256 fingerprint and expiry.")
public final class BundleShowCommand implements Callable<Integer> {
    private final CliContext context;

    @Parameters(paramLabel = "FILE", description = "SPIFFE bundle JSON or PEM.")
    Path file;

    @Option(names = "--trust-domain", paramLabel = "TD",
            description = "Trust domain of a PEM file whose roots carry no spiffe:// URI SAN.")
    String trustDomain;

    BundleShowCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        PrintWriter out = context.out();
        BundleArguments.Loaded loaded = BundleArguments.load(file, trustDomain);
        TrustBundle bundle = loaded.bundle();
        out.printf("trust domain  %s%n", bundle.trustDomain());
        out.printf("format        %s%n", loaded.format().name().toLowerCase(java.util.Locale.ROOT));
        out.printf("sequence      %d%n", bundle.sequenceNumber());
        out.printf("refresh hint  %s%n", bundle.refreshHint().map(Durations::format).orElse("-"));
        out.printf("roots         %d%n", bundle.x509Authorities().size());
        int i = 1;
        for (X509Certificate root : bundle.x509Authorities()) {
            out.printf("  [%d] subject    %s%n", i++, root.getSubjectX500Principal().getName());
            out.printf("      sha256     %s%n", SvidCertificates.sha256Fingerprint(root));
            out.printf("      not after  %s%n", root.getNotAfter().toInstant());
        }
        if (!bundle.jwtAuthorities().isEmpty()) {
            out.printf("jwt authorities  %s%n", String.join(", ", bundle.jwtAuthorities().keySet()));
        }
        return 0;
    }

}
