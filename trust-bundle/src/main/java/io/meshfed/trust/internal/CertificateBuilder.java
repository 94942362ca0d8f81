package io.meshfed.trust.internal;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.KeyPairs;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builds X.509 v3 certificates with BouncyCastle. Every extension is explicit, so the CAs can make exactly what the
 * X509-SVID standard asks for and tests can make exactly what it forbids.
 */
public final class CertificateBuilder {
    private static final SecureRandom RANDOM = new SecureRandom();

    private X500Name subject;
    private X500Name issuerName;
    private PublicKey issuerPublicKey;
    private PrivateKey signingKey;
    private PublicKey publicKey;
    private BigInteger serial;
    private Instant notBefore;
    private Instant notAfter;
    private Boolean ca;
    private Integer pathLength;
    private Integer keyUsage;
    private boolean keyUsageCritical = true;
    private final List<KeyPurposeId> extendedKeyUsages = new ArrayList<>();
    private final List<String> uriSans = new ArrayList<>();
    private final List<GeneralName> otherSans = new ArrayList<>();
    private boolean sanCritical;

    public static CertificateBuilder builder() {
        return new CertificateBuilder();
    }

    public CertificateBuilder subject(X500Name subject) {
        this.subject = requireNonNull(subject, "subject");
        return this;
    }

    public CertificateBuilder subject(String rfc4514) {
        return subject(new X500Name(requireNonNull(rfc4514, "rfc4514")));
    }

    /** Self-signed: issuer = subject, signed with the subject key. */
    public CertificateBuilder selfSigned(PublicKey publicKey, PrivateKey privateKey) {
        this.publicKey = requireNonNull(publicKey, "publicKey");
        this.signingKey = requireNonNull(privateKey, "privateKey");
        this.issuerName = null;
        this.issuerPublicKey = publicKey;
        return this;
    }

    public CertificateBuilder issuedBy(X509Certificate issuer, PrivateKey issuerKey) {
        requireNonNull(issuer, "issuer");
        this.issuerName = X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
        this.issuerPublicKey = issuer.getPublicKey();
        this.signingKey = requireNonNull(issuerKey, "issuerKey");
        return this;
    }

    public CertificateBuilder publicKey(PublicKey publicKey) {
        this.publicKey = requireNonNull(publicKey, "publicKey");
        return this;
    }

    public CertificateBuilder serial(BigInteger serial) {
        if (serial.signum() <= 0) {
            throw new IllegalArgumentException("serial must be positive, got " + serial);
        }
        this.serial = serial;
        return this;
    }

    public CertificateBuilder validity(Instant notBefore, Instant notAfter) {
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter " + notAfter + " must be after notBefore " + notBefore);
        }
        this.notBefore = notBefore;
        this.notAfter = notAfter;
        return this;
    }

    /** Basic constraints: CA or not, with an optional path length for CAs. */
    public CertificateBuilder ca(boolean isCa, Integer pathLength) {
        this.ca = isCa;
        this.pathLength = pathLength;
        return this;
    }

    /** Key usage bits as BouncyCastle {@link KeyUsage} constants OR-ed together; critical. */
    public CertificateBuilder keyUsage(int bits) {
        this.keyUsage = bits;
        return this;
    }

    public CertificateBuilder noKeyUsage() {
        this.keyUsage = null;
        return this;
    }

    public CertificateBuilder extendedKeyUsage(KeyPurposeId... purposes) {
        extendedKeyUsages.addAll(List.of(purposes));
        return this;
    }

    public CertificateBuilder uriSan(String uri) {
        uriSans.add(requireNonNull(uri, "uri"));
        return this;
    }

    /** A DNS name SAN, for web PKI server certificates (a bundle endpoint's https_web profile). */
    public CertificateBuilder dnsSan(String name) {
        otherSans.add(new GeneralName(GeneralName.dNSName, requireNonNull(name, "name")));
        return this;
    }

    /** An IP address SAN, for web PKI server certificates. */
    public CertificateBuilder ipSan(String address) {
        otherSans.add(new GeneralName(GeneralName.iPAddress, requireNonNull(address, "address")));
        return this;
    }

    public CertificateBuilder sanCritical(boolean critical) {
        this.sanCritical = critical;
        return this;
    }

    /** 128 random bits, positive and non-zero, as RFC 5280 and the CA/B baseline ask. */
    public static BigInteger randomSerial() {
        BigInteger s;
        do {
            s = new BigInteger(128, RANDOM);
        } while (s.signum() == 0);
        return s;
    }

    public X509Certificate build() {
        requireNonNull(subject, "subject");
        requireNonNull(publicKey, "publicKey");
        requireNonNull(signingKey, "signing key (selfSigned or issuedBy)");
        requireNonNull(notBefore, "validity");
        try {
            X500Name issuer = issuerName == null ? subject : issuerName;
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
                    serial == null ? randomSerial() : serial, Date.from(notBefore), Date.from(notAfter), subject,
                    publicKey);
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            if (ca != null) {
                b.addExtension(Extension.basicConstraints, true,
                        ca && pathLength != null ? new BasicConstraints(pathLength) : new BasicConstraints(ca));
            }
            if (keyUsage != null) {
                b.addExtension(Extension.keyUsage, keyUsageCritical, new KeyUsage(keyUsage));
            }
            if (!extendedKeyUsages.isEmpty()) {
                b.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(extendedKeyUsages.toArray(new KeyPurposeId[0])));
            }
            if (!uriSans.isEmpty() || !otherSans.isEmpty()) {
                List<GeneralName> all = new java.util.ArrayList<>(otherSans);
                uriSans.forEach(u -> all.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
                GeneralName[] names = all.toArray(GeneralName[]::new);
                b.addExtension(Extension.subjectAlternativeName, sanCritical, new GeneralNames(names));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(publicKey));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    utils.createAuthorityKeyIdentifier(issuerPublicKey));
            String algorithm = KeyPairs.signatureAlgorithm(signingKey);
            return new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(signingKey)));
        } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build certificate for " + subject + ": " + e.getMessage(), e);
        }
    }
}
