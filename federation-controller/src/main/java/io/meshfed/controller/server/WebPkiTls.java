package io.meshfed.controller.server;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;

/** The server TLS of a listener with a web PKI certificate (the https_web SPIFFE bundle endpoint): no client cert. */
public final class WebPkiTls {
    private WebPkiTls() {}

    /**
     * A server context from a PEM certificate chain (leaf first) and its PEM private key (PKCS#8, or PKCS#1/SEC1).
     *
     * @throws IllegalArgumentException naming the file that is missing or does not load
     */
    public static SslContext server(Path certificateChain, Path privateKey) {
        for (Path p : new Path[] {certificateChain, privateKey}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("the https_web bundle endpoint's " + (p == privateKey ? "key" : "certificate")
                        + " file " + p + " is missing or unreadable");
            }
        }
        try {
            return SslContextBuilder.forServer(certificateChain.toFile(), privateKey.toFile())
                    .protocols("TLSv1.3", "TLSv1.2").clientAuth(ClientAuth.NONE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (Exception e) {
            throw new IllegalArgumentException("the https_web bundle endpoint's certificate " + certificateChain + " and key "
                    + privateKey + " do not load: " + e.getMessage());
        }
    }
}
