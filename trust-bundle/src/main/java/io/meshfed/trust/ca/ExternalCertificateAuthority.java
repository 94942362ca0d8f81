package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import io.meshfed.trust.ca.IssuanceRefusedException.Reason;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * The CA of a trust domain whose own mesh issues its SVIDs (an Istio cluster, a SPIRE server): the federation holds
 * only its bundle, read from a file (SPIFFE bundle JSON or PEM roots) that must name this trust domain's roots, and
 * never signs for it: {@link #issue} refuses every request, and {@link #issues()} is false, so no join token is
 * made for it.
 */
public final class ExternalCertificateAuthority implements CertificateAuthority {
    /** The backend's name in configuration. */
    public static final String BACKEND = "external";

    private final TrustDomain trustDomain;
    private final List<X509Certificate> roots;

    private ExternalCertificateAuthority(TrustDomain trustDomain, List<X509Certificate> roots) {
        this.trustDomain = trustDomain;
        this.roots = List.copyOf(roots);
    }

    /**
     * @throws CaException when the file cannot be read, holds no root, or is another trust domain's bundle
     */
    public static ExternalCertificateAuthority load(TrustDomain trustDomain, Path bundleFile) {
        requireNonNull(trustDomain, "trustDomain");
        TrustBundle bundle;
        try {
            bundle = BundleFiles.read(bundleFile, Optional.of(trustDomain));
        } catch (TrustFormatException e) {
            throw new CaException("the bundle of external trust domain " + trustDomain.name() + ": "
                    + e.getMessage(), e);
        }
        if (bundle.x509Authorities().isEmpty()) {
            throw new CaException(bundleFile + " holds no X.509 root for external trust domain " + trustDomain.name());
        }
        return new ExternalCertificateAuthority(trustDomain, bundle.x509Authorities());
    }

    @Override
    public TrustDomain trustDomain() {
        return trustDomain;
    }

    @Override
    public String backend() {
        return BACKEND;
    }

    @Override
    public boolean issues() {
        return false;
    }

    @Override
    public List<X509Certificate> rootCertificates() {
        return roots;
    }

    @Override
    public List<X509Certificate> signingChain() {
        return List.of();
    }

    @Override
    public IssuedSvid issue(SvidRequest request, IssuancePolicy policy) throws IssuanceRefusedException {
        throw new IssuanceRefusedException(Reason.EXTERNAL, "trust domain " + trustDomain.name() + " is external:"
                + " its own mesh issues its SVIDs, and meshfed never signs for it");
    }
}
