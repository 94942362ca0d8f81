package io.meshfed.edge;

import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import io.meshfed.trust.tls.TlsProvider;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import java.time.Clock;
import javax.net.ssl.SSLException;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;

/**
 * {@code meshfed.edge.tls.svid=true}: clients are served over TLS 1.3 with this edge gateway's own X.509-SVID
 * (clients that trust the federation's bundle verify it by its SPIFFE ID). The key never leaves the process, and a
 * renewed SVID is served from the next handshake on. With {@code server.http2.enabled} ALPN offers h2 first, then
 * http/1.1. Clients are not asked for a certificate. For a certificate from the operator's own PKI, use Spring
 * Boot's {@code server.ssl.certificate} and {@code server.ssl.certificate-private-key} instead.
 */
final class SvidServerTls implements NettyServerCustomizer {
    private final SslContext context;
    private final boolean http2;

    SvidServerTls(TlsCredentials credentials, boolean http2, Clock clock) throws SSLException {
        SpiffeTrustManager notAsked = new SpiffeTrustManager(credentials, PeerAuthorizer.anyVerified(), clock);
        var builder = SpiffeTls.nettyServerBuilder(TlsProvider.preferred(), notAsked, new SpiffeKeyManager(credentials),
                ClientAuth.NONE);
        if (http2) {
            builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
        }
        this.context = builder.build();
        this.http2 = http2;
    }

    @Override
    public HttpServer apply(HttpServer server) {
        HttpServer secured = server.secure(spec -> spec.sslContext(context));
        // Spring Boot chose h2c (clear text) as it saw no server.ssl: over TLS that is h2.
        return http2 ? secured.protocol(HttpProtocol.H2, HttpProtocol.HTTP11) : secured;
    }
}
