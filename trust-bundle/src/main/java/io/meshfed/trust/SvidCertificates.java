package io.meshfed.trust;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Reads SPIFFE facts out of X.509 certificates. */
public final class SvidCertificates {
    private static final int SAN_URI = 6;

    private SvidCertificates() {}

    /** Every URI subject alternative name of the certificate, in order. */
    public static List<String> uriSans(X509Certificate cert) {
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("subject alternative names cannot be parsed: " + e.getMessage(), e);
        }
        List<String> uris = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && san.get(0) instanceof Integer type && type == SAN_URI) {
                    uris.add(String.valueOf(san.get(1)));
                }
            }
        }
        return uris;
    }

    /**
     * The SPIFFE ID of a leaf: its one URI SAN.
     *
     * @throws IllegalArgumentException when it has no URI SAN, several, or one that is not a SPIFFE ID
     */
    public static SpiffeId spiffeIdOf(X509Certificate cert) {
        List<String> uris = uriSans(cert);
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("certificate has no URI SAN, so it carries no SPIFFE ID");
        }
        if (uris.size() > 1) {
            throw new IllegalArgumentException("certificate has " + uris.size() + " URI SANs " + uris
                    + "; an X.509-SVID has exactly one");
        }
        return SpiffeId.parse(uris.get(0));
    }

    /**
     * The trust domain named by a CA certificate's SPIFFE URI SAN ({@code spiffe://td}), if it has one. Lenient about
     * a trailing '/', which the bundle standard's own example uses.
     */
    public static Optional<TrustDomain> trustDomainOfCa(X509Certificate cert) {
        for (String uri : uriSans(cert)) {
            if (!uri.startsWith(SpiffeId.SCHEME_PREFIX)) {
                continue;
            }
            String rest = uri.substring(SpiffeId.SCHEME_PREFIX.length());
            int slash = rest.indexOf('/');
            String host = slash < 0 ? rest : rest.substring(0, slash);
            try {
                return Optional.of(TrustDomain.parse(host));
            } catch (InvalidSpiffeIdException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Whether the certificate is a CA (basic constraints cA = true). */
    public static boolean isCa(X509Certificate cert) {
        return cert.getBasicConstraints() >= 0;
    }

    /** The pin of a certificate, as join tokens carry it: base64url (no padding) of the SHA-256 of its DER. */
    /** SHA-256 of the certificate's DER, in lowercase hex: how status names a root. */
    public static String sha256Hex(X509Certificate cert) {
        try {
            return java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable or certificate not encodable: " + e.getMessage(), e);
        }
    }

    public static String pin(X509Certificate cert) {
        try {
            return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                    java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable or certificate not encodable: " + e.getMessage(), e);
        }
    }

    /** SHA-256 fingerprint as colon-separated upper-case hex. */
    public static String sha256Fingerprint(X509Certificate cert) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            StringBuilder sb = new StringBuilder(digest.length * 3);
            for (int i = 0; i < digest.length; i++) {
                if (i > 0) {
                    sb.append(':');
                }
                sb.append(String.format("%02X", digest[i]));
            }
            return sb.toString();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable or certificate not encodable: " + e.getMessage(), e);
        }
    }
}
