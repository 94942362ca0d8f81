package io.meshfed.trust.ca;

import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Function;

/**
 * What the backends that hold a signing key in this process have in common: a trust domain, a root, and an
 * {@link SvidSigner} that issues. Backends differ in where the key and chain come from.
 */
abstract class SigningCertificateAuthority implements CertificateAuthority {
    private final TrustDomain trustDomain;
    private final X509Certificate root;
    private final SvidSigner signer;

    SigningCertificateAuthority(TrustDomain trustDomain, X509Certificate root, SvidSigner signer) {
        this.trustDomain = trustDomain;
        this.root = root;
        this.signer = signer;
    }

    @Override
    public final TrustDomain trustDomain() {
        return trustDomain;
    }

    @Override
    public final List<X509Certificate> rootCertificates() {
        return List.of(root);
    }

    @Override
    public final List<X509Certificate> signingChain() {
        return signer.signingChain();
    }

    @Override
    public final IssuedSvid issue(SvidRequest request, IssuancePolicy policy) throws IssuanceRefusedException {
        return signer.sign(request, policy);
    }

    /** Reads a PEM file and parses it; any problem becomes a {@link CaException} naming the file. */
    static <T> T readPemFile(Path file, Function<String, T> parser) {
        try {
            return parser.apply(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CaException("cannot read " + file + ": " + BundleFiles.describe(e), e);
        } catch (TrustFormatException e) {
            throw new CaException(file + ": " + e.getMessage(), e);
        }
    }
}
