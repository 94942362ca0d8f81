package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.IssuanceRefusedException.Reason;
import io.meshfed.trust.internal.CertificateBuilder;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Issues leaves from CSRs with one signing key; the issuing rules every backend shares. The backends differ only in
 * where the signing key and chain come from.
 */
final class SvidSigner {
    /** Leaves start a little in the past so that peers with a slightly slow clock accept them. */
    static final Duration BACKDATE = Duration.ofSeconds(30);

    private final TrustDomain trustDomain;
    private final X509Certificate signingCertificate;
    private final PrivateKey signingKey;
    private final List<X509Certificate> signingChain;
    private final Instant chainNotBefore;
    private final Instant chainNotAfter;
    private final Clock clock;

    /**
     * @param signingChain the signing certificate first, then the certificates above it up to and including the root
     */
    SvidSigner(TrustDomain trustDomain, List<X509Certificate> signingChain, PrivateKey signingKey, Clock clock) {
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        this.signingCertificate = signingChain.get(0);
        this.signingKey = requireNonNull(signingKey, "signingKey");
        this.clock = requireNonNull(clock, "clock");
        List<X509Certificate> withoutRoot = new ArrayList<>(signingChain);
        if (withoutRoot.size() > 1 && isSelfIssued(withoutRoot.get(withoutRoot.size() - 1))) {
            withoutRoot.remove(withoutRoot.size() - 1);
        }
        this.signingChain = List.copyOf(withoutRoot);
        Instant nb = Instant.MIN;
        Instant na = Instant.MAX;
        for (X509Certificate c : signingChain) {
            Instant cNb = c.getNotBefore().toInstant();
            Instant cNa = c.getNotAfter().toInstant();
            nb = cNb.isAfter(nb) ? cNb : nb;
            na = cNa.isBefore(na) ? cNa : na;
        }
        this.chainNotBefore = nb;
        this.chainNotAfter = na;
    }

    List<X509Certificate> signingChain() {
        return signingChain;
    }

    IssuedSvid sign(SvidRequest request, IssuancePolicy policy) throws IssuanceRefusedException {
        requireNonNull(request, "request");
        requireNonNull(policy, "policy");
        SpiffeId id = request.spiffeId();
        JcaPKCS10CertificationRequest csr = parseAndVerify(request.csrDer());
        PublicKey publicKey = checkKey(csr);

        if (!id.trustDomain().equals(trustDomain)) {
            throw new IssuanceRefusedException(Reason.WRONG_TRUST_DOMAIN,
                    id + " is in trust domain " + id.trustDomain() + "; this CA issues only for " + trustDomain);
        }
        if (id.isTrustDomainId()) {
            throw new IssuanceRefusedException(Reason.NOT_A_WORKLOAD_ID,
                    id + " names the trust domain itself; an SVID needs a path such as /ns/NAMESPACE/sa/ACCOUNT");
        }
        List<String> csrUris = csrUriSans(csr);
        if (!csrUris.isEmpty() && !(csrUris.size() == 1 && csrUris.get(0).equals(id.toString()))) {
            throw new IssuanceRefusedException(Reason.CSR_ID_MISMATCH,
                    "the CSR asks for " + csrUris + " but the request is for " + id);
        }
        Optional<String> refusal = policy.refusal(id);
        if (refusal.isPresent()) {
            throw new IssuanceRefusedException(Reason.POLICY, "not allowed to issue " + id + ": " + refusal.get());
        }

        Instant now = clock.instant();
        if (now.isAfter(chainNotAfter) || now.isBefore(chainNotBefore)) {
            throw new IssuanceRefusedException(Reason.CA_NOT_VALID, "the CA of " + trustDomain
                    + " is valid only from " + chainNotBefore + " to " + chainNotAfter + "; now is " + now);
        }
        Instant notBefore = now.minus(BACKDATE);
        if (notBefore.isBefore(chainNotBefore)) {
            notBefore = chainNotBefore;
        }
        Instant wanted = now.plus(request.ttl());
        boolean capped = wanted.isAfter(chainNotAfter);
        Instant notAfter = capped ? chainNotAfter : wanted;

        int usage = KeyUsage.digitalSignature | (publicKey instanceof RSAPublicKey ? KeyUsage.keyEncipherment : 0);
        X509Certificate leaf = CertificateBuilder.builder()
                .subject(new X500NameBuilder(BCStyle.INSTANCE)
                        .addRDN(BCStyle.O, "meshfed").addRDN(BCStyle.OU, trustDomain.name()).build())
                .issuedBy(signingCertificate, signingKey)
                .publicKey(publicKey)
                .validity(notBefore, notAfter)
                .ca(false, null)
                .keyUsage(usage)
                .extendedKeyUsage(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth)
                .uriSan(id.toString())
                .build();
        List<X509Certificate> chain = new ArrayList<>(signingChain.size() + 1);
        chain.add(leaf);
        chain.addAll(signingChain);
        return new IssuedSvid(id, chain, capped);
    }

    private static JcaPKCS10CertificationRequest parseAndVerify(byte[] der) throws IssuanceRefusedException {
        JcaPKCS10CertificationRequest csr;
        try {
            csr = new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(der));
        } catch (IOException | RuntimeException e) {
            throw new IssuanceRefusedException(Reason.MALFORMED_CSR, "the CSR is not a PKCS#10 request: " + e.getMessage());
        }
        try {
            // Verify with the JCA key (the JDK knows EC keys by name, not by the OID the CSR carries).
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(csr.getPublicKey()))) {
                throw new IssuanceRefusedException(Reason.BAD_CSR_SIGNATURE,
                        "the CSR's signature does not verify with its own public key");
            }
        } catch (IssuanceRefusedException e) {
            throw e;
        } catch (Exception e) {
            throw new IssuanceRefusedException(Reason.BAD_CSR_SIGNATURE,
                    "the CSR's signature cannot be verified: " + e.getMessage());
        }
        return csr;
    }

    private static PublicKey checkKey(JcaPKCS10CertificationRequest csr) throws IssuanceRefusedException {
        PublicKey key;
        try {
            key = csr.getPublicKey();
        } catch (Exception e) {
            throw new IssuanceRefusedException(Reason.MALFORMED_CSR, "the CSR's public key cannot be read: " + e.getMessage());
        }
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits < 256) {
                throw new IssuanceRefusedException(Reason.WEAK_KEY, "EC keys must be P-256 or larger, got P-" + bits);
            }
            return key;
        }
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < 2048) {
                throw new IssuanceRefusedException(Reason.WEAK_KEY,
                        "RSA keys must be 2048 bits or larger, got " + rsa.getModulus().bitLength());
            }
            return key;
        }
        throw new IssuanceRefusedException(Reason.WEAK_KEY, "unsupported key algorithm " + key.getAlgorithm()
                + "; use EC P-256 (default), P-384 or RSA 2048+");
    }

    private static List<String> csrUriSans(PKCS10CertificationRequest csr) {
        List<String> uris = new ArrayList<>();
        for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            for (var value : attribute.getAttributeValues()) {
                Extensions extensions = Extensions.getInstance(value);
                GeneralNames names = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
                if (names == null) {
                    continue;
                }
                for (GeneralName name : names.getNames()) {
                    if (name.getTagNo() == GeneralName.uniformResourceIdentifier) {
                        uris.add(name.getName().toString());
                    }
                }
            }
        }
        return uris;
    }

    static boolean isSelfIssued(X509Certificate cert) {
        return cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal());
    }
}
