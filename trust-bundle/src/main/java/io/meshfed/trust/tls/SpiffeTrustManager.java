package io.meshfed.trust.tls;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidVerificationException;
import io.meshfed.trust.X509SvidVerifier;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies the peer's X.509-SVID against the bundle of the peer's own trust domain, taken from the current
 * {@link TlsCredentials} at each handshake, then asks the {@link PeerAuthorizer}. Host names play no part: the
 * SPIFFE ID is the identity. Every rejection is reported to the listener (for metrics) before the handshake fails.
 */
public final class SpiffeTrustManager extends X509ExtendedTrustManager {
    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    private final TlsCredentials credentials;
    private final PeerAuthorizer authorizer;
    private final X509SvidVerifier verifier;
    private final Consumer<SvidVerificationException> rejections;

    public SpiffeTrustManager(TlsCredentials credentials, PeerAuthorizer authorizer, Clock clock,
            Consumer<SvidVerificationException> rejections) {
        this.credentials = requireNonNull(credentials, "credentials");
        this.authorizer = requireNonNull(authorizer, "authorizer");
        this.verifier = new X509SvidVerifier(requireNonNull(clock, "clock"));
        this.rejections = requireNonNull(rejections, "rejections");
    }

    public SpiffeTrustManager(TlsCredentials credentials, PeerAuthorizer authorizer, Clock clock) {
        this(credentials, authorizer, clock, e -> { });
    }

    /** Verifies and authorizes a presented chain; returns the peer's SPIFFE ID. */
    public SpiffeId verifyPeer(X509Certificate[] chain) throws CertificateException {
        try {
            if (chain == null) {
                throw new SvidVerificationException(SvidVerificationException.Reason.EMPTY_CHAIN,
                        "no certificate was presented");
            }
            SpiffeId peer = verifier.verify(Arrays.asList(chain), credentials.bundles());
            Optional<String> refusal = authorizer.refusal(peer);
            if (refusal.isPresent()) {
                throw new SvidVerificationException(SvidVerificationException.Reason.NOT_AUTHORIZED,
                        "peer " + peer + " is not authorized: " + refusal.get());
            }
            return peer;
        } catch (SvidVerificationException e) {
            rejections.accept(e);
            throw e;
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verifyPeer(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verifyPeer(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        verifyPeer(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        verifyPeer(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        verifyPeer(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        verifyPeer(chain);
    }

    /** Empty: a SPIFFE server does not advertise CA names; clients present their one SVID regardless. */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return NO_ISSUERS;
    }
}
