package io.meshfed.trust.ca;

import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Issues X.509-SVIDs for one trust domain. Implementations are thread-safe.
 *
 * <p>Contract (checked by the shared contract test suite for every backend): {@link #issue} verifies the CSR's
 * signature, refuses weak keys, IDs of other trust domains, IDs without a path, a CSR that names a different SPIFFE ID,
 * and anything the caller's {@link IssuancePolicy} refuses; the certificate it returns verifies against
 * {@link #bundle()} with {@link io.meshfed.trust.X509SvidVerifier}; its lifetime is capped by the issuer's own expiry.
 */
public interface CertificateAuthority {
    TrustDomain trustDomain();

    /** {@code builtin}, {@code provided}, ... as named in configuration. */
    String backend();

    /**
     * Whether this CA issues at all. An external trust domain's SVIDs come from its own mesh (an Istio cluster, a
     * SPIRE server): the federation holds only its bundle and never signs for it, so nothing may join it.
     */
    default boolean issues() {
        return true;
    }

    /** The root certificates SVIDs from this CA chain to. */
    List<X509Certificate> rootCertificates();

    /** The certificates between a leaf and the root: the signing certificate first, the root excluded. */
    List<X509Certificate> signingChain();

    /** The roots as a bundle of this trust domain (sequence 0; publishers number their own versions). */
    default TrustBundle bundle() {
        return TrustBundle.of(trustDomain(), rootCertificates());
    }

    /**
     * Issues an SVID for the request if the request is well-formed and {@code policy} allows its SPIFFE ID.
     *
     * @throws IssuanceRefusedException with the reason, for the requester and the audit log
     */
    IssuedSvid issue(SvidRequest request, IssuancePolicy policy) throws IssuanceRefusedException;
}
