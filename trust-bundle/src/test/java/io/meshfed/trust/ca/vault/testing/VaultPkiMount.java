package io.meshfed.trust.ca.vault.testing;

import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.KeyPairs;
import io.meshfed.trust.Pem;
import io.meshfed.trust.internal.CertificateBuilder;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * One PKI secrets engine mount: one issuer (its key never leaves this object), the roles, the certificates it
 * issued (unless the role says {@code no_store}). The checks and messages follow Vault's PKI engine
 * ({@code builtin/logical/pki}) and its API docs.
 */
final class VaultPkiMount {
    /** Vault's system default_lease_ttl and max_lease_ttl: 768h (32 days). */
    static final Duration SYSTEM_TTL = Duration.ofHours(768);
    private static final Pattern HOSTNAME = Pattern.compile(
            "^(\\*\\.)?(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*"
                    + "([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9])\\.?$");

    final String path;
    volatile Duration defaultLeaseTtl = SYSTEM_TTL;
    volatile Duration maxLeaseTtl = SYSTEM_TTL;
    /** The issuer's leaf_not_after_behavior: {@code err} (Vault's default) or {@code truncate}. */
    volatile String leafNotAfterBehavior = "err";
    final Map<String, VaultPkiRole> roles = new ConcurrentHashMap<>();
    final Map<String, X509Certificate> issued = new ConcurrentHashMap<>();
    private volatile PrivateKey caKey;
    /** The issuing CA first, then its issuers up to the root. Empty until a CA is generated or set. */
    private volatile List<X509Certificate> caChain = List.of();
    private volatile KeyPair pendingIntermediate;

    VaultPkiMount(String path) {
        this.path = path;
    }

    synchronized boolean hasCa() {
        return caKey != null && !caChain.isEmpty();
    }

    List<X509Certificate> caChain() {
        return caChain;
    }

    X509Certificate caCertificate() {
        List<X509Certificate> c = caChain;
        return c.isEmpty() ? null : c.get(0);
    }

    // ---- CA setup ----

    static KeyPair generateKey(String keyType, int keyBits) {
        KeyAlgorithm a = switch (keyType) {
            case "ec" -> switch (keyBits == 0 ? 256 : keyBits) {
                case 256 -> KeyAlgorithm.EC_P256;
                case 384 -> KeyAlgorithm.EC_P384;
                default -> throw VaultError.badRequest("unsupported bit length for EC key: " + keyBits);
            };
            case "rsa" -> switch (keyBits == 0 ? 2048 : keyBits) {
                case 2048 -> KeyAlgorithm.RSA_2048;
                case 3072 -> KeyAlgorithm.RSA_3072;
                default -> throw VaultError.badRequest("unsupported bit length for RSA key: " + keyBits);
            };
            default -> throw VaultError.badRequest("unknown key type: " + keyType);
        };
        return a.generate();
    }

    /** {@code root/generate/internal}: a self-signed CA whose key stays here. Replaces any CA the mount had. */
    synchronized X509Certificate generateRoot(String commonName, Duration ttl, String keyType, int keyBits,
            Integer maxPathLength, Instant now) {
        if (commonName == null || commonName.isEmpty()) {
            throw VaultError.badRequest("the common_name field is required");
        }
        KeyPair kp = generateKey(keyType, keyBits);
        X509Certificate cert = CertificateBuilder.builder()
                .subject(cn(commonName))
                .selfSigned(kp.getPublic(), kp.getPrivate())
                .validity(now.minusSeconds(30), now.plus(ttl))
                .ca(true, maxPathLength)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .build();
        caKey = kp.getPrivate();
        caChain = List.of(cert);
        issued.put(serial(cert), cert);
        return cert;
    }

    /** {@code intermediate/generate/internal}: a key kept here, and a CSR for it. */
    synchronized PKCS10CertificationRequest generateIntermediateCsr(String commonName, String keyType,
            int keyBits) {
        KeyPair kp = generateKey(keyType, keyBits);
        pendingIntermediate = kp;
        try {
            return new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(cn(commonName),
                    kp.getPublic()).build(new JcaContentSignerBuilder(KeyPairs.signatureAlgorithm(kp.getPrivate()))
                    .build(kp.getPrivate()));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code root/sign-intermediate}: this mount's CA signs a CA certificate for another key. */
    synchronized X509Certificate signIntermediate(PKCS10CertificationRequest csr, String commonName, Duration ttl,
            Integer maxPathLength, Instant now) {
        requireCa();
        verifySignature(csr);
        PublicKey key = publicKey(csr);
        String cn = commonName == null || commonName.isEmpty() ? csrCommonName(csr) : commonName;
        Instant notAfter = capToCa(now.plus(ttl));
        X509Certificate issuer = caCertificate();
        Integer pathLen = maxPathLength;
        if (pathLen == null && issuer.getBasicConstraints() >= 0 && issuer.getBasicConstraints() != Integer.MAX_VALUE) {
            pathLen = Math.max(0, issuer.getBasicConstraints() - 1);
        }
        X509Certificate cert = CertificateBuilder.builder()
                .subject(cn(cn))
                .issuedBy(issuer, caKey)
                .publicKey(key)
                .validity(now.minusSeconds(30), notAfter)
                .ca(true, pathLen)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .build();
        issued.put(serial(cert), cert);
        return cert;
    }

    /** {@code intermediate/set-signed}: the signed certificate for the pending key, optionally followed by its chain. */
    synchronized void setSigned(List<X509Certificate> certs) {
        if (certs.isEmpty()) {
            throw VaultError.badRequest("no data found in PEM block");
        }
        KeyPair kp = pendingIntermediate;
        if (kp == null || !certs.get(0).getPublicKey().equals(kp.getPublic())) {
            throw VaultError.badRequest("unable to find a matching private key for the imported certificate");
        }
        caKey = kp.getPrivate();
        caChain = List.copyOf(certs);
        pendingIntermediate = null;
    }

    // ---- issuance ----

    /** What {@code sign/:role} or {@code issue/:role} asked for. */
    record Request(String commonName, List<String> altNames, List<String> uriSans, Duration ttl,
            boolean excludeCnFromSans) {}

    record Issued(X509Certificate certificate, List<X509Certificate> caChain, PrivateKey privateKey) {}

    synchronized Issued sign(VaultPkiRole role, PKCS10CertificationRequest csr, Request req, Instant now) {
        requireCa();
        verifySignature(csr);
        PublicKey key = publicKey(csr);
        checkKey(role, key);
        List<String> csrDns = new ArrayList<>();
        List<String> csrUris = new ArrayList<>();
        csrSans(csr, csrDns, csrUris);
        return issue(role, key, csrCommonName(csr), csrDns, csrUris, true, req, now, null);
    }

    synchronized Issued issueWithNewKey(VaultPkiRole role, Request req, Instant now) {
        requireCa();
        if (role.keyType.equals("any")) {
            throw VaultError.badRequest("role key type \"any\" not allowed for issuing certificates, only signing");
        }
        KeyPair kp = generateKey(role.keyType, role.keyBits);
        return issue(role, kp.getPublic(), "", List.of(), List.of(), false, req, now, kp.getPrivate());
    }

    private Issued issue(VaultPkiRole role, PublicKey key, String csrCn, List<String> csrDns, List<String> csrUris,
            boolean fromCsr, Request req, Instant now, PrivateKey generated) {
        // Common name: from the CSR when use_csr_common_name, else (or when the CSR has none) the API's.
        String cn = "";
        if (fromCsr && role.useCsrCommonName) {
            cn = csrCn;
        }
        if (cn.isEmpty()) {
            cn = req.commonName() == null ? "" : req.commonName();
            if (cn.isEmpty() && role.requireCn) {
                throw VaultError.badRequest("the common_name field is required, or must be provided in a CSR with "
                        + "\"use_csr_common_name\" set to true, unless \"require_cn\" is set to false");
            }
        }
        List<String> dnsNames = new ArrayList<>();
        List<String> emails = new ArrayList<>();
        if (!cn.isEmpty() && !req.excludeCnFromSans()) {
            if (cn.contains("@")) {
                emails.add(cn);
            } else if (HOSTNAME.matcher(cn).matches()) {
                dnsNames.add(cn);
            }
        }
        List<String> alt = fromCsr && role.useCsrSans ? csrDns : req.altNames();
        for (String a : alt) {
            if (a.contains("@")) {
                emails.add(a);
            } else if (HOSTNAME.matcher(a).matches()) {
                dnsNames.add(a);
            }
        }
        if (!cn.isEmpty() && !nameAllowed(role, cn)) {
            throw VaultError.badRequest("common name " + cn + " not allowed by this role");
        }
        for (String d : dnsNames) {
            if (!nameAllowed(role, d)) {
                throw VaultError.badRequest("subject alternate name " + d + " not allowed by this role");
            }
        }
        for (String e : emails) {
            if (!nameAllowed(role, e)) {
                throw VaultError.badRequest("email address " + e + " not allowed by this role");
            }
        }
        List<String> uris = new ArrayList<>();
        boolean viaCsr = fromCsr && role.useCsrSans;
        List<String> requestedUris = viaCsr ? csrUris : req.uriSans();
        if (!requestedUris.isEmpty() && role.allowedUriSans.isEmpty()) {
            throw VaultError.badRequest("URI Subject Alternative Names are not allowed in this role, but were "
                    + "provided via " + (viaCsr ? "CSR" : "the API"));
        }
        for (String uri : requestedUris) {
            if (role.allowedUriSans.stream().noneMatch(pattern -> glob(pattern, uri))) {
                // Vault says "via CSR" here for both sources (builtin/logical/pki cert_util.go).
                throw VaultError.badRequest("URI Subject Alternative Names were provided via CSR which are not "
                        + "valid for this role");
            }
            try {
                java.net.URI.create(uri);
            } catch (IllegalArgumentException e) {
                throw VaultError.badRequest("the provided URI Subject Alternative Name '" + uri
                        + "' is not a valid URI");
            }
            uris.add(uri);
        }
        // TTL: the request's, else the role's, else the mount's default; capped by the role's max_ttl, else the
        // mount's max lease TTL; then checked against the CA's notAfter.
        Duration ttl = req.ttl() == null ? Duration.ZERO : req.ttl();
        if (ttl.isZero() && !role.ttl.isZero()) {
            ttl = role.ttl;
        }
        Duration max = role.maxTtl.isZero() ? maxLeaseTtl : role.maxTtl;
        if (ttl.isZero()) {
            ttl = defaultLeaseTtl;
        }
        if (ttl.compareTo(max) > 0) {
            ttl = max;
        }
        Instant notAfter = capToCa(now.plus(ttl));
        X509Certificate cert = buildLeaf(role, key, cn, dnsNames, emails, uris, now.minusSeconds(30), notAfter);
        if (!role.noStore) {
            issued.put(serial(cert), cert);
        }
        return new Issued(cert, caChain, generated);
    }

    private Instant capToCa(Instant notAfter) {
        Instant caNotAfter = caCertificate().getNotAfter().toInstant();
        if (notAfter.isAfter(caNotAfter)) {
            if (leafNotAfterBehavior.equals("truncate") || leafNotAfterBehavior.equals("permit")) {
                return leafNotAfterBehavior.equals("truncate") ? caNotAfter : notAfter;
            }
            throw VaultError.badRequest("cannot satisfy request, as TTL would result in notAfter of "
                    + DateTimeFormatter.ISO_INSTANT.format(notAfter) + " that is beyond the expiration of the CA "
                    + "certificate at " + DateTimeFormatter.ISO_INSTANT.format(caNotAfter));
        }
        return notAfter;
    }

    private X509Certificate buildLeaf(VaultPkiRole role, PublicKey key, String cn, List<String> dns,
            List<String> emails, List<String> uris, Instant notBefore, Instant notAfter) {
        X509Certificate issuer = caCertificate();
        try {
            X500Name subject = cn.isEmpty() ? new X500Name(new org.bouncycastle.asn1.x500.RDN[0]) : cn(cn);
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()),
                    CertificateBuilder.randomSerial(), Date.from(notBefore), Date.from(notAfter), subject, key);
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            int usage = 0;
            for (String u : role.keyUsage) {
                usage |= switch (u.toLowerCase(Locale.ROOT)) {
                    case "digitalsignature" -> KeyUsage.digitalSignature;
                    case "contentcommitment" -> KeyUsage.nonRepudiation;
                    case "keyencipherment" -> KeyUsage.keyEncipherment;
                    case "dataencipherment" -> KeyUsage.dataEncipherment;
                    case "keyagreement" -> KeyUsage.keyAgreement;
                    case "certsign" -> KeyUsage.keyCertSign;
                    case "crlsign" -> KeyUsage.cRLSign;
                    case "encipheronly" -> KeyUsage.encipherOnly;
                    case "decipheronly" -> KeyUsage.decipherOnly;
                    default -> throw VaultError.badRequest("unknown key usage " + u);
                };
            }
            if (usage != 0) {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
            }
            if (role.basicConstraintsValidForNonCa) { // Go's x509 marks basic constraints critical
                b.addExtension(Extension.basicConstraints, true, new org.bouncycastle.asn1.x509.BasicConstraints(false));
            }
            List<KeyPurposeId> ekus = new ArrayList<>();
            if (role.serverFlag) {
                ekus.add(KeyPurposeId.id_kp_serverAuth);
            }
            if (role.clientFlag) {
                ekus.add(KeyPurposeId.id_kp_clientAuth);
            }
            if (!ekus.isEmpty()) {
                b.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(ekus.toArray(new KeyPurposeId[0])));
            }
            List<GeneralName> names = new ArrayList<>();
            dns.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
            emails.forEach(e -> names.add(new GeneralName(GeneralName.rfc822Name, e)));
            uris.forEach(u -> names.add(new GeneralName(GeneralName.uniformResourceIdentifier, u)));
            if (!names.isEmpty()) {
                // Critical when the subject is empty (RFC 5280 4.2.1.6), as Go's x509 makes it.
                b.addExtension(Extension.subjectAlternativeName, cn.isEmpty(),
                        new GeneralNames(names.toArray(new GeneralName[0])));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    utils.createAuthorityKeyIdentifier(issuer.getPublicKey()));
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(KeyPairs.signatureAlgorithm(caKey)).build(caKey)));
        } catch (IOException | GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException("cannot build leaf: " + e.getMessage(), e);
        }
    }

    // ---- checks ----

    private void requireCa() {
        if (!hasCa()) {
            // What Vault answers on a PKI mount with no issuer.
            throw VaultError.badRequest("no default issuer currently configured");
        }
    }

    private static void checkKey(VaultPkiRole role, PublicKey key) {
        String type = key instanceof ECKey ? "ec" : key instanceof RSAKey ? "rsa" : key.getAlgorithm();
        int bits = key instanceof ECKey ec ? ec.getParams().getCurve().getField().getFieldSize()
                : key instanceof RSAKey rsa ? rsa.getModulus().bitLength() : 0;
        if (type.equals("rsa") && bits < 2048) {
            throw VaultError.badRequest("RSA keys < 2048 bits are unsafe and not supported: got " + bits + " bits");
        }
        if (role.keyType.equals("any")) {
            return;
        }
        if (!role.keyType.equals(type)) {
            throw VaultError.badRequest("role requires keys of type " + role.keyType);
        }
        if (bits < role.keyBits) {
            throw VaultError.badRequest("role requires a minimum of a " + role.keyBits + "-bit key, but CSR's key is "
                    + bits + " bits");
        }
    }

    /** Vault's validateNames, for the parts the fake models. */
    private static boolean nameAllowed(VaultPkiRole role, String name) {
        String host = name.contains("@") ? name.substring(name.indexOf('@') + 1) : name;
        if (role.enforceHostnames && !HOSTNAME.matcher(host).matches()) {
            return false;
        }
        if (role.allowAnyName) {
            return true;
        }
        String lower = host.toLowerCase(Locale.ROOT);
        for (String d : role.allowedDomains) {
            String domain = d.toLowerCase(Locale.ROOT);
            if (role.allowBareDomains && lower.equals(domain)) {
                return true;
            }
            if (role.allowSubdomains && lower.endsWith("." + domain)) {
                return true;
            }
            if (role.allowGlobDomains && domain.contains("*") && glob(domain, lower)) {
                return true;
            }
        }
        return false;
    }

    /** ryanuber/go-glob, which Vault uses for allowed_uri_sans: {@code *} matches any run of characters. */
    static boolean glob(String pattern, String subject) {
        if (pattern.equals("*")) {
            return true;
        }
        String[] parts = pattern.split("\\*", -1);
        if (parts.length == 1) {
            return pattern.equals(subject);
        }
        if (!subject.startsWith(parts[0])) {
            return false;
        }
        int at = parts[0].length();
        for (int i = 1; i < parts.length - 1; i++) {
            int idx = subject.indexOf(parts[i], at);
            if (idx < 0) {
                return false;
            }
            at = idx + parts[i].length();
        }
        String last = parts[parts.length - 1];
        return subject.length() - last.length() >= at && subject.endsWith(last);
    }

    static PKCS10CertificationRequest parseCsr(String pem) {
        if (pem == null || pem.isBlank()) {
            throw VaultError.badRequest("\"csr\" is empty");
        }
        try {
            return Pem.readCsr(pem);
        } catch (RuntimeException e) {
            throw VaultError.badRequest("certificate request could not be parsed");
        }
    }

    private static void verifySignature(PKCS10CertificationRequest csr) {
        boolean valid;
        try {
            // Verify with the JCA key: the JDK knows EC keys by name, not by the OID the CSR carries.
            valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(publicKey(csr)));
        } catch (org.bouncycastle.operator.OperatorCreationException | org.bouncycastle.pkcs.PKCSException e) {
            valid = false;
        }
        if (!valid) {
            throw VaultError.badRequest("request signature invalid");
        }
    }

    private static PublicKey publicKey(PKCS10CertificationRequest csr) {
        try {
            return new JcaPKCS10CertificationRequest(csr).getPublicKey();
        } catch (GeneralSecurityException e) {
            throw VaultError.badRequest("certificate request could not be parsed");
        }
    }

    private static String csrCommonName(PKCS10CertificationRequest csr) {
        var rdns = csr.getSubject().getRDNs(BCStyle.CN);
        return rdns.length == 0 ? "" : rdns[0].getFirst().getValue().toString();
    }

    private static void csrSans(PKCS10CertificationRequest csr, List<String> dns, List<String> uris) {
        for (var attr : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            for (ASN1Encodable v : attr.getAttrValues()) {
                Extensions ext = Extensions.getInstance(v);
                GeneralNames names = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
                if (names == null) {
                    continue;
                }
                for (GeneralName n : names.getNames()) {
                    if (n.getTagNo() == GeneralName.dNSName) {
                        dns.add(n.getName().toString());
                    } else if (n.getTagNo() == GeneralName.uniformResourceIdentifier) {
                        uris.add(n.getName().toString());
                    }
                }
            }
        }
    }

    static X500Name cn(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
    }

    /** Vault's serial number text: lower-case hex bytes joined by colons. */
    static String serial(X509Certificate cert) {
        byte[] b = cert.getSerialNumber().toByteArray();
        int from = b.length > 1 && b[0] == 0 ? 1 : 0;
        StringBuilder s = new StringBuilder();
        for (int i = from; i < b.length; i++) {
            if (s.length() > 0) {
                s.append(':');
            }
            s.append(HexFormat.of().toHexDigits(b[i]));
        }
        return s.toString();
    }

    static BigInteger parseSerial(String text) {
        return new BigInteger(text.replace(":", "").replace("-", ""), 16);
    }

    X509Certificate find(String serialText) {
        BigInteger wanted = parseSerial(serialText);
        for (X509Certificate c : issued.values()) {
            if (c.getSerialNumber().equals(wanted)) {
                return c;
            }
        }
        return null;
    }

    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("roles", roles.keySet());
        return m;
    }
}
