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
