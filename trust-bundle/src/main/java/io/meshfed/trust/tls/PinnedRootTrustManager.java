package io.meshfed.trust.tls;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.SvidVerificationException;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509SvidVerifier;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * For a joiner that has no bundle yet, only the pin in its join token: the server must present its chain up to and
 * including a root whose {@link SvidCertificates#pin pin} matches; the chain must verify against that root as an
 * X.509-SVID; and the server's SPIFFE ID must have the expected path in the root's trust domain. Only then does the
 * joiner send its token. {@link #verifiedBundle()} then holds the root as the federation's bundle.
 */
public final class PinnedRootTrustManager extends X509ExtendedTrustManager {
    private final String pin;
    private final String expectedPath;
    private final X509SvidVerifier verifier;
    private final AtomicReference<TrustBundle> verified = new AtomicReference<>();

    public PinnedRootTrustManager(String pin, String expectedPath, Clock clock) {
        this.pin = requireNonNull(pin, "pin");
        this.expectedPath = requireNonNull(expectedPath, "expectedPath");
        this.verifier = new X509SvidVerifier(requireNonNull(clock, "clock"));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length < 2) {
            throw new SvidVerificationException(SvidVerificationException.Reason.UNTRUSTED_CHAIN,
                    "the server did not present its root; cannot check it against the join token's pin");
        }
        X509Certificate root = chain[chain.length - 1];
        if (!SvidCertificates.pin(root).equals(pin)) {
            throw new SvidVerificationException(SvidVerificationException.Reason.UNTRUSTED_CHAIN,
                    "the server's root does not match the pin in the join token: this is not your federation's"
                            + " controller (or the token is for another federation)");
        }
        Optional<TrustDomain> td = SvidCertificates.trustDomainOfCa(root);
        if (td.isEmpty()) {
            throw new SvidVerificationException(SvidVerificationException.Reason.UNTRUSTED_CHAIN,
                    "the pinned root names no trust domain (spiffe:// URI SAN)");
        }
        TrustBundle bundle = TrustBundle.of(td.get(), List.of(root));
        SpiffeId expected = td.get().workload(expectedPath);
        verifier.verify(Arrays.asList(chain), BundleSet.of(bundle), expected);
        verified.set(bundle);
    }

    /** The federation's bundle, once a server was verified. */
    public Optional<TrustBundle> verifiedBundle() {
        return Optional.ofNullable(verified.get());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a joiner's trust manager verifies servers only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
