package io.meshfed.trust.tls;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidCertificates;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;

/**
 * Builds TLS 1.3 contexts with mutual SPIFFE authentication from {@link TlsCredentials}: Netty server and client
 * contexts (OpenSSL or JDK) and JDK {@link SSLContext}s. Servers require a client certificate. Host names are not
 * verified; the peer's SPIFFE ID is, by the trust manager and the {@link PeerAuthorizer}.
 */
public final class SpiffeTls {
    public static final String TLS_13 = "TLSv1.3";

    private SpiffeTls() {}

    public static SslContext nettyServer(TlsProvider provider, SpiffeTrustManager trustManager,
            SpiffeKeyManager keyManager) throws SSLException {
        return nettyServerBuilder(provider, trustManager, keyManager, ClientAuth.REQUIRE).build();
    }

    public static SslContext nettyClient(TlsProvider provider, SpiffeTrustManager trustManager,
            SpiffeKeyManager keyManager) throws SSLException {
        return nettyClientBuilder(provider, trustManager, keyManager).build();
    }

    /**
     * A server builder, for callers that add to it (gRPC adds ALPN). {@code clientAuth} OPTIONAL serves callers that
     * have no SVID yet (a joiner); whoever presents a certificate is still verified, and the caller decides per call.
     */
    public static SslContextBuilder nettyServerBuilder(TlsProvider provider, SpiffeTrustManager trustManager,
            SpiffeKeyManager keyManager, ClientAuth clientAuth) {
        return SslContextBuilder.forServer(requireNonNull(keyManager, "keyManager"))
                .trustManager(requireNonNull(trustManager, "trustManager"))
                .sslProvider(requireNonNull(provider, "provider").netty())
                .protocols(TLS_13)
                .clientAuth(requireNonNull(clientAuth, "clientAuth"));
    }

    /** A client builder; {@code keyManager} may be null for a client without an SVID (a joiner). */
    public static SslContextBuilder nettyClientBuilder(TlsProvider provider, javax.net.ssl.TrustManager trustManager,
            SpiffeKeyManager keyManager) {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .trustManager(requireNonNull(trustManager, "trustManager"))
                .sslProvider(requireNonNull(provider, "provider").netty())
                .protocols(TLS_13)
                .endpointIdentificationAlgorithm(null);
        return keyManager == null ? builder : builder.keyManager(keyManager);
    }

    /** A JDK context; servers must also call {@code setNeedClientAuth(true)} on their sockets or engines. */
    public static SSLContext jdk(SpiffeTrustManager trustManager, SpiffeKeyManager keyManager) {
        try {
            SSLContext context = SSLContext.getInstance(TLS_13);
            context.init(new KeyManager[] {requireNonNull(keyManager, "keyManager")},
                    new TrustManager[] {requireNonNull(trustManager, "trustManager")}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no TLS 1.3: " + e.getMessage(), e);
        }
    }

    /** The verified SPIFFE ID of the peer of an established session. */
    public static Optional<SpiffeId> peerId(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
                return Optional.empty();
            }
            return Optional.of(SvidCertificates.spiffeIdOf(leaf));
        } catch (SSLPeerUnverifiedException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
