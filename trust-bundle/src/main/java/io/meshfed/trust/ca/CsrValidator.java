package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.IssuanceRefusedException.Reason;
import java.io.IOException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * The checks every CA backend makes before it issues, whoever signs (this process, Vault): the CSR is PKCS#10 and
 * its signature verifies with its own key; the key is EC P-256 or larger, or RSA 2048 or larger; the SPIFFE ID is
 * in the backend's trust domain and has a path; the CSR names no other URI than that ID; and the caller's
 * {@link IssuancePolicy} allows it. So every backend refuses the same requests with the same reasons.
 */
public final class CsrValidator {
    private final TrustDomain trustDomain;

    public CsrValidator(TrustDomain trustDomain) {
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
    }

    /**
     * @return the CSR's public key, once every check passed
     * @throws IssuanceRefusedException with the reason of the first check that failed
     */
    public PublicKey validate(SvidRequest request, IssuancePolicy policy) throws IssuanceRefusedException {
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
        return publicKey;
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

}
