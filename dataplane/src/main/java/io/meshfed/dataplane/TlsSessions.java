package io.meshfed.dataplane;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.tls.SpiffeTls;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/** The SPIFFE IDs of an established TLS connection: the verified peer's, and the one this side presented. */
final class TlsSessions {
    private TlsSessions() {}

    static Optional<SpiffeId> peer(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        return tls == null ? Optional.empty() : SpiffeTls.peerId(tls.engine().getSession());
    }

    /**
     * When the verified peer's leaf certificate expires: a connection that lives longer (a pooled tunnel) must not
     * let its peer open new flows after that. {@link java.time.Instant#MIN} when there is no peer certificate.
     */
    static java.time.Instant peerNotAfter(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        try {
            java.security.cert.Certificate[] chain = tls == null ? null : tls.engine().getSession()
                    .getPeerCertificates();
            return chain != null && chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate leaf
                    ? leaf.getNotAfter().toInstant() : java.time.Instant.MIN;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return java.time.Instant.MIN;
        }
    }

    static Optional<SpiffeId> local(Channel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls == null) {
            return Optional.empty();
        }
        SSLSession session = tls.engine().getSession();
        Certificate[] chain = session.getLocalCertificates();
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
            return Optional.empty();
        }
        try {
            return Optional.of(SvidCertificates.spiffeIdOf(leaf));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
