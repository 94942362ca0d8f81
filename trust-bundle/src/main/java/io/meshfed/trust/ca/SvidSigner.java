package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.ca.IssuanceRefusedException.Reason;
import io.meshfed.trust.internal.CertificateBuilder;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * Issues leaves from CSRs with one signing key, after {@link CsrValidator} (the checks every backend shares). The
 * backends that sign in this process differ only in where the signing key and chain come from.
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
    private final CsrValidator validator;

    /**
     * @param signingChain the signing certificate first, then the certificates above it up to and including the root
     */
    SvidSigner(TrustDomain trustDomain, List<X509Certificate> signingChain, PrivateKey signingKey, Clock clock) {
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        this.signingCertificate = signingChain.get(0);
        this.signingKey = requireNonNull(signingKey, "signingKey");
        this.clock = requireNonNull(clock, "clock");
        this.validator = new CsrValidator(trustDomain);
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
        PublicKey publicKey = validator.validate(request, policy);

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

    static boolean isSelfIssued(X509Certificate cert) {
        return cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal());
    }
}
