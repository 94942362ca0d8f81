package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.SvidVerificationException;
import io.meshfed.trust.TrustFormatException;
import io.meshfed.trust.X509SvidVerifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshfed trust verify}: checks an X.509-SVID against a bundle set as a peer would. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify an X.509-SVID (PEM chain, leaf first) as a peer would: against the bundle of its own",
            "trust domain. Prints one line; exit 0 when valid, 1 when not (with the reason), 2 on a usage error."})
public final class VerifyCommand implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--bundle", required = true, paramLabel = "[TD=]FILE",
            description = {"Trust bundle, SPIFFE JSON or PEM; repeat for a set. TD= names the trust domain of a",
                "PEM file whose roots carry no spiffe:// URI SAN."})
    List<String> bundles;

    @Option(names = "--svid", required = true, paramLabel = "FILE", description = "The SVID's certificate chain.")
    Path svid;

    @Option(names = "--expect-id", paramLabel = "ID", description = "Also require this SPIFFE ID.")
    String expectId;

    VerifyCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        PrintWriter out = context.out();
        SpiffeId expected = expectId == null ? null : SpiffeId.parse(expectId);
        BundleSet set = BundleArguments.readSet(bundles);
        List<X509Certificate> chain;
        try {
            chain = SvidFiles.readChain(svid);
        } catch (TrustFormatException e) {
            throw new CliException("not valid: " + e.getMessage());
        }
        X509SvidVerifier verifier = new X509SvidVerifier(context.clock());
        try {
            SpiffeId id = expected == null ? verifier.verify(chain, set) : verifier.verify(chain, set, expected);
            X509Certificate leaf = chain.get(0);
            out.println("valid: " + id + " (serial " + leaf.getSerialNumber().toString(16) + ", issued by '"
                    + leaf.getIssuerX500Principal().getName() + "', expires " + leaf.getNotAfter().toInstant() + ")");
            return ExitCodes.OK;
        } catch (SvidVerificationException e) {
            out.println("not valid (" + e.reason().label() + "): " + e.getMessage());
            return ExitCodes.FAILURE;
        }
    }
}
