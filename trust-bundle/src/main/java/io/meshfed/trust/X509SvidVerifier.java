package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SvidVerificationException.Reason;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Verifies X.509-SVIDs as the X509-SVID standard (section 5) says: the leaf carries exactly one URI SAN, a SPIFFE ID;
 * the leaf is not a CA, has digitalSignature and neither keyCertSign nor cRLSign; every signing certificate is a CA
 * with keyCertSign; and the chain verifies against the bundle of the leaf's own trust domain and no other. Validity is
 * checked at the time of the injected {@link Clock}. Thread-safe.
 */
public final class X509SvidVerifier {
    private static final int DIGITAL_SIGNATURE = 0;
    private static final int KEY_CERT_SIGN = 5;
    private static final int CRL_SIGN = 6;

    private final Clock clock;

    public X509SvidVerifier(Clock clock) {
        this.clock = requireNonNull(clock, "clock");
    }

    /** Verifies against a bundle set. */
    public SpiffeId verify(List<X509Certificate> chain, BundleSet bundles) throws SvidVerificationException {
        requireNonNull(bundles, "bundles");
        return verify(chain, td -> bundles.find(td).orElse(null), bundles.trustDomains().toString());
    }

    /** Verifies and checks that the SVID is for {@code expected}. */
    public SpiffeId verify(List<X509Certificate> chain, BundleSet bundles, SpiffeId expected)
            throws SvidVerificationException {
        SpiffeId id = verify(chain, bundles);
        if (!id.equals(expected)) {
            throw new SvidVerificationException(Reason.UNEXPECTED_ID, "SVID is for " + id + ", expected " + expected);
        }
        return id;
    }

    private SpiffeId verify(List<X509Certificate> chain, Function<TrustDomain, TrustBundle> bundleOf, String known)
            throws SvidVerificationException {
        requireNonNull(chain, "chain");
        if (chain.isEmpty()) {
            throw new SvidVerificationException(Reason.EMPTY_CHAIN, "no certificate was presented");
        }
        X509Certificate leaf = chain.get(0);
        SpiffeId id = leafId(leaf);
        checkLeafConstraints(leaf, id);

        TrustBundle bundle = bundleOf.apply(id.trustDomain());
        if (bundle == null || bundle.x509Authorities().isEmpty()) {
            throw new SvidVerificationException(Reason.UNKNOWN_TRUST_DOMAIN, "no trust bundle for trust domain "
                    + id.trustDomain() + " of " + id + " (bundles are held for " + known + ")");
        }

        Instant now = clock.instant();
        List<X509Certificate> intermediates = withoutRoots(chain.subList(1, chain.size()), bundle);
        checkValidity(leaf, "leaf " + id, now);
        for (X509Certificate signer : intermediates) {
            String name = "signing certificate '" + signer.getSubjectX500Principal().getName() + "'";
            checkValidity(signer, name, now);
            if (!SvidCertificates.isCa(signer)) {
                throw new SvidVerificationException(Reason.SIGNER_NOT_CA, name + " is not a CA (basic constraints)");
            }
            boolean[] usage = signer.getKeyUsage();
            if (usage == null || !usage[KEY_CERT_SIGN]) {
                throw new SvidVerificationException(Reason.SIGNER_KEY_USAGE, name + " lacks keyCertSign key usage");
            }
        }
        validatePath(leaf, intermediates, bundle, now, id);
        return id;
    }

    private static SpiffeId leafId(X509Certificate leaf) throws SvidVerificationException {
        List<String> uris;
        try {
            uris = SvidCertificates.uriSans(leaf);
        } catch (IllegalArgumentException e) {
            throw new SvidVerificationException(Reason.NO_URI_SAN, "leaf " + e.getMessage(), e);
        }
        if (uris.isEmpty()) {
            throw new SvidVerificationException(Reason.NO_URI_SAN,
                    "leaf certificate has no URI SAN, so it carries no SPIFFE ID");
        }
        if (uris.size() > 1) {
            throw new SvidVerificationException(Reason.MULTIPLE_URI_SANS,
                    "leaf certificate has " + uris.size() + " URI SANs " + uris + "; an X.509-SVID has exactly one");
        }
        try {
            SpiffeId id = SpiffeId.parse(uris.get(0));
            if (id.isTrustDomainId()) {
                throw new SvidVerificationException(Reason.INVALID_SPIFFE_ID,
                        "leaf SPIFFE ID " + id + " has no path; a leaf must name a workload");
            }
            return id;
        } catch (InvalidSpiffeIdException e) {
            throw new SvidVerificationException(Reason.INVALID_SPIFFE_ID, "leaf URI SAN: " + e.getMessage(), e);
        }
    }

    private static void checkLeafConstraints(X509Certificate leaf, SpiffeId id) throws SvidVerificationException {
        if (SvidCertificates.isCa(leaf)) {
            throw new SvidVerificationException(Reason.LEAF_IS_CA, "leaf " + id + " is a CA certificate (cA=true)");
        }
        boolean[] usage = leaf.getKeyUsage();
        if (usage == null || !usage[DIGITAL_SIGNATURE]) {
            throw new SvidVerificationException(Reason.LEAF_KEY_USAGE, "leaf " + id + " lacks digitalSignature key usage");
        }
        if (usage.length > KEY_CERT_SIGN && usage[KEY_CERT_SIGN]) {
            throw new SvidVerificationException(Reason.LEAF_KEY_USAGE, "leaf " + id + " has keyCertSign key usage");
        }
        if (usage.length > CRL_SIGN && usage[CRL_SIGN]) {
            throw new SvidVerificationException(Reason.LEAF_KEY_USAGE, "leaf " + id + " has cRLSign key usage");
        }
    }

    private static void checkValidity(X509Certificate cert, String name, Instant now)
            throws SvidVerificationException {
        Instant notBefore = cert.getNotBefore().toInstant();
        Instant notAfter = cert.getNotAfter().toInstant();
        if (now.isBefore(notBefore)) {
            throw new SvidVerificationException(Reason.NOT_YET_VALID, name + " is not valid before " + notBefore);
        }
        if (now.isAfter(notAfter)) {
            throw new SvidVerificationException(Reason.EXPIRED, name + " expired at " + notAfter);
        }
    }

    /** A presented chain may end with the root itself; the root must come from the bundle, not the peer. */
    private static List<X509Certificate> withoutRoots(List<X509Certificate> rest, TrustBundle bundle) {
        Set<String> roots = new HashSet<>();
        for (X509Certificate root : bundle.x509Authorities()) {
            roots.add(Arrays.toString(encoded(root)));
        }
        List<X509Certificate> out = new ArrayList<>(rest.size());
        for (X509Certificate c : rest) {
            if (!roots.contains(Arrays.toString(encoded(c)))) {
                out.add(c);
            }
        }
        return out;
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (GeneralSecurityException e) {
            return new byte[0];
        }
    }

    private static void validatePath(X509Certificate leaf, List<X509Certificate> intermediates, TrustBundle bundle,
            Instant now, SpiffeId id) throws SvidVerificationException {
        try {
            List<X509Certificate> path = new ArrayList<>(intermediates.size() + 1);
            path.add(leaf);
            path.addAll(intermediates);
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate root : bundle.x509Authorities()) {
                anchors.add(new TrustAnchor(root, null));
            }
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
        } catch (CertPathValidatorException e) {
            Reason reason = e.getReason() == CertPathValidatorException.BasicReason.INVALID_SIGNATURE
                    ? Reason.BAD_SIGNATURE : Reason.UNTRUSTED_CHAIN;
            String what = reason == Reason.BAD_SIGNATURE ? "has a signature that does not verify"
                    : "does not chain to a root of trust domain " + id.trustDomain();
            throw new SvidVerificationException(reason,
                    "certificate chain of " + id + " " + what + " (" + e.getMessage() + ")", e);
        } catch (GeneralSecurityException e) {
            throw new SvidVerificationException(Reason.UNTRUSTED_CHAIN,
                    "certificate chain of " + id + " cannot be validated: " + e.getMessage(), e);
        }
    }
}
