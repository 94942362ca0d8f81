package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.KeyPairs;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.TrustDomain;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The {@code provided} CA: an operator-supplied signing (intermediate) certificate, its private key and the chain to
 * the root, as PEM files, for example an existing Istio {@code cacerts} secret ({@code ca-cert.pem},
 * {@code ca-key.pem}, {@code cert-chain.pem}, {@code root-cert.pem}). Loading checks that the key matches the
 * certificate, that the certificate is a CA allowed to sign, and that the chain reaches a self-signed root.
 */
public final class ProvidedCertificateAuthority extends SigningCertificateAuthority {
    /** The backend's name in configuration. */
    public static final String BACKEND = "provided";

    private ProvidedCertificateAuthority(TrustDomain trustDomain, X509Certificate root, SvidSigner signer) {
        super(trustDomain, root, signer);
    }

    /**
     * Loads a provided CA.
     *
     * @param certFile the signing certificate (exactly one certificate)
     * @param keyFile its unencrypted private key (PKCS#8, or the OpenSSL EC/RSA forms)
     * @param chainFile the certificates above it up to the root; may start with the signing certificate itself (as
     *     Istio's cert-chain.pem does) and may omit the root when {@code rootFile} has it
     * @param rootFile the root certificate, when the chain file does not end with it
     * @throws CaException naming the file and the problem
     */
    public static ProvidedCertificateAuthority load(TrustDomain trustDomain, Path certFile, Path keyFile,
            Path chainFile, Optional<Path> rootFile, Clock clock) {
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(clock, "clock");
        List<X509Certificate> certs = certificates(certFile);
        if (certs.size() != 1) {
            throw new CaException(certFile + " holds " + certs.size()
                    + " certificates; give only the signing certificate there and the rest in the chain file");
        }
        X509Certificate signing = certs.get(0);
        PrivateKey key = privateKey(keyFile);
        if (!KeyPairs.matches(signing.getPublicKey(), key)) {
            throw new CaException("the key in " + keyFile + " does not belong to the certificate in " + certFile);
        }
        if (!SvidCertificates.isCa(signing)) {
            throw new CaException("the certificate in " + certFile + " is not a CA (basic constraints cA=false);"
                    + " it cannot sign SVIDs");
        }
        boolean[] usage = signing.getKeyUsage();
        if (usage == null || !usage[5]) {
            throw new CaException("the certificate in " + certFile + " lacks the keyCertSign key usage; it cannot sign");
        }
        Optional<TrustDomain> named = SvidCertificates.trustDomainOfCa(signing);
        if (named.isPresent() && !named.get().equals(trustDomain)) {
            throw new CaException("the certificate in " + certFile + " is for trust domain " + named.get()
                    + ", not " + trustDomain);
        }
        Instant now = clock.instant();
        if (now.isAfter(signing.getNotAfter().toInstant())) {
            throw new CaException("the certificate in " + certFile + " expired at " + signing.getNotAfter().toInstant());
        }

        List<X509Certificate> above = new ArrayList<>(certificates(chainFile));
        if (!above.isEmpty() && sameCertificate(above.get(0), signing)) {
            above.remove(0);
        }
        if (rootFile.isPresent()) {
            for (X509Certificate r : certificates(rootFile.get())) {
                if (above.stream().noneMatch(c -> sameCertificate(c, r))) {
                    above.add(r);
                }
            }
        }
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(signing);
        chain.addAll(above);
        checkChain(chain, chainFile);
        X509Certificate root = chain.get(chain.size() - 1);
        return new ProvidedCertificateAuthority(trustDomain, root, new SvidSigner(trustDomain, chain, key, clock));
    }

    /** Each certificate must be issued and signed by the next; the last must be a self-signed root. */
    private static void checkChain(List<X509Certificate> chain, Path chainFile) {
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate cert = chain.get(i);
            String name = "'" + cert.getSubjectX500Principal().getName() + "'";
            boolean last = i == chain.size() - 1;
            if (last) {
                if (!SvidSigner.isSelfIssued(cert)) {
                    throw new CaException("the chain is incomplete: " + name + " is issued by '"
                            + cert.getIssuerX500Principal().getName() + "', which is not in " + chainFile
                            + "; add the certificates up to the self-signed root");
                }
                verify(cert, cert, name + " (the root) is not validly self-signed");
                break;
            }
            X509Certificate issuer = chain.get(i + 1);
            if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
                throw new CaException("the chain in " + chainFile + " is out of order or incomplete: " + name
                        + " is issued by '" + cert.getIssuerX500Principal().getName() + "' but is followed by '"
                        + issuer.getSubjectX500Principal().getName() + "'");
            }
            if (!SvidCertificates.isCa(issuer)) {
                throw new CaException("'" + issuer.getSubjectX500Principal().getName() + "' in " + chainFile
                        + " is not a CA certificate");
            }
            verify(cert, issuer, "the signature of " + name + " does not verify with the key of '"
                    + issuer.getSubjectX500Principal().getName() + "'");
        }
    }

    private static void verify(X509Certificate cert, X509Certificate issuer, String message) {
        try {
            cert.verify(issuer.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new CaException(message, e);
        }
    }

    private static boolean sameCertificate(X509Certificate a, X509Certificate b) {
        try {
            return Arrays.equals(a.getEncoded(), b.getEncoded());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static List<X509Certificate> certificates(Path file) {
        return readPemFile(file, Pem::readCertificates);
    }

    private static PrivateKey privateKey(Path file) {
        return readPemFile(file, Pem::readPrivateKey);
    }

    @Override
    public String backend() {
        return BACKEND;
    }

    @Override
    public String toString() {
        return "ProvidedCertificateAuthority[" + trustDomain() + "]";
    }
}
