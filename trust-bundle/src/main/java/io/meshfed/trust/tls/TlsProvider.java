package io.meshfed.trust.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/** Which TLS implementation Netty contexts use. */
public enum TlsProvider {
    /** BoringSSL through netty-tcnative: faster handshakes and bulk crypto. */
    OPENSSL,
    /** The JDK's own JSSE. */
    JDK;

    /** OpenSSL when netty-tcnative loads on this machine and supports TLS 1.3, otherwise the JDK. */
    public static TlsProvider preferred() {
        return openSslUsable() ? OPENSSL : JDK;
    }

    public static boolean openSslUsable() {
        return OpenSsl.isAvailable() && SslProvider.isTlsv13Supported(SslProvider.OPENSSL);
    }

    /** The Netty provider constant. */
    public SslProvider netty() {
        return this == OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK;
    }
}
