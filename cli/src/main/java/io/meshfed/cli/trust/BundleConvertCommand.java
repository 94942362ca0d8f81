package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.TrustBundle;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshfed trust bundle convert --to pem|spiffe FILE}: writes the converted bundle to stdout. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a bundle between SPIFFE bundle JSON and PEM; the result goes to stdout.",
            "PEM carries no sequence: converting PEM to SPIFFE JSON uses --sequence (default 1)."})
public final class BundleConvertCommand implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--to", required = true, paramLabel = "pem|spiffe", description = "Output format.")
    String to;

    @Parameters(paramLabel = "FILE", description = "SPIFFE bundle JSON or PEM.")
    Path file;

    @Option(names = "--trust-domain", paramLabel = "TD",
            description = "Trust domain of a PEM file whose roots carry no spiffe:// URI SAN.")
    String trustDomain;

    @Option(names = "--sequence", paramLabel = "N", description = "spiffe_sequence for a bundle converted from PEM.")
    Long sequence;

    BundleConvertCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        BundleFiles.Format format;
        try {
            format = BundleFiles.Format.parse(to);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), io.meshfed.cli.context.ExitCodes.USAGE);
        }
        BundleArguments.Loaded loaded = BundleArguments.load(file, trustDomain);
        TrustBundle bundle = loaded.bundle();
        boolean fromPem = loaded.format() == BundleFiles.Format.PEM;
        if (sequence != null || (fromPem && format == BundleFiles.Format.SPIFFE)) {
            long n = sequence != null ? sequence : 1;
            if (n < 0) {
                throw new CliException("--sequence must be >= 0, got " + n, io.meshfed.cli.context.ExitCodes.USAGE);
            }
            bundle = bundle.toBuilder().sequenceNumber(n).build();
        }
        PrintWriter out = context.out();
        out.print(BundleFiles.encode(bundle, format));
        out.flush();
        return 0;
    }

}
