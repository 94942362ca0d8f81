package io.meshfed.cli.trust;

import io.meshfed.cli.context.CliContext;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.Durations;
import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidFiles;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.ca.BuiltinCertificateAuthority;
import io.meshfed.trust.ca.IssuancePolicy;
import io.meshfed.trust.ca.IssuanceRefusedException;
import io.meshfed.trust.ca.IssuedSvid;
import io.meshfed.trust.ca.SvidRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code meshfed trust issue}: issues an X.509-SVID from a builtin CA. */
@Command(name = "issue", mixinStandardHelpOptions = true,
        description = {"Issue an X.509-SVID from the builtin CA in --ca-dir.",
            "Without --csr a key is generated here and written to PREFIX.key.pem (owner-only); with --csr the",
            "requester keeps its key and only PREFIX.crt.pem (leaf, then intermediate) is written."})
public final class IssueCommand implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--ca-dir", required = true, paramLabel = "DIR", description = "Directory of the CA.")
    Path caDir;

    @Option(names = "--spiffe-id", required = true, paramLabel = "ID",
            description = "e.g. spiffe://east.acme.mesh/ns/demo/sa/hello")
    String spiffeId;

    @Option(names = "--out", required = true, paramLabel = "PREFIX",
            description = "Writes PREFIX.crt.pem and (without --csr) PREFIX.key.pem.")
    String out;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h", converter = Durations.class,
            description = "Lifetime (default ${DEFAULT-VALUE}); capped at the CA's own expiry.")
    Duration ttl;

    @Option(names = "--csr", paramLabel = "FILE", description = "PKCS#10 request (PEM) from the key's holder.")
    Path csr;

    @Option(names = "--key-type", paramLabel = "TYPE", defaultValue = "ec-p256",
            description = "Key to generate without --csr: ec-p256 (default), ec-p384, rsa-2048, rsa-3072.")
    String keyType;

    @Mixin
    KekOptions kek;

    IssueCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = context.out();
        SpiffeId id = SpiffeId.parse(spiffeId);
        BuiltinCertificateAuthority ca = BuiltinCertificateAuthority.load(caDir, kek.load(caDir), context.clock());
        Path certFile = Path.of(out + ".crt.pem");
        Path keyFile = Path.of(out + ".key.pem");
        KeyPair keys = null;
        SvidRequest request;
        try {
            if (csr != null) {
                request = SvidRequest.fromPem(readCsr(csr), id, ttl);
            } else {
                keys = KeyAlgorithm.parse(keyType).generate();
                request = SvidRequest.of(CertificateSigningRequests.createDer(keys, id), id, ttl);
            }
        } catch (IllegalArgumentException e) {
            throw new CliException((csr != null ? csr + ": " : "") + e.getMessage());
        }
        IssuedSvid issued;
        try {
            issued = ca.issue(request, IssuancePolicy.exactly(id));
        } catch (IssuanceRefusedException e) {
            throw new CliException("refused to issue " + id + ": " + e.getMessage());
        }
        if (keys != null) {
            SvidFiles.write(X509Svid.of(id, issued.chain(), keys.getPrivate()), certFile, keyFile);
        } else {
            SvidFiles.writeChain(issued.chain(), certFile);
        }
        stdout.println("Issued " + id + " (serial " + issued.leaf().getSerialNumber().toString(16)
                + "), valid until " + issued.notAfter());
        if (issued.lifetimeCapped()) {
            stdout.println("  note: lifetime shortened to the CA's own expiry");
        }
        stdout.println("  certificate  " + certFile + " (leaf, then intermediate)");
        if (keys != null) {
            stdout.println("  private key  " + keyFile + " (owner-only)");
        }
        return 0;
    }

    private static String readCsr(Path file) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + BundleFiles.describe(e), e);
        }
    }
}
