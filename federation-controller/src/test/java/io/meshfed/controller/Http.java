package io.meshfed.controller;

import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/** HTTPS calls to the controller's HTTP endpoint, with or without the admin client certificate. */
final class Http {
    private Http() {}

    static HttpResponse<String> get(TestFederation f, String path) throws Exception {
        return client(f, null).send(HttpRequest.newBuilder(uri(f, path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(TestFederation f, String path, String json, X509Svid svid) throws Exception {
        return client(f, svid).send(HttpRequest.newBuilder(uri(f, path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A TLS connection to the HTTPS port presenting {@code svid}, handshake done: for requests a client would not send. */
    static javax.net.ssl.SSLSocket socket(TestFederation f, X509Svid svid) throws Exception {
        TlsCredentials creds = TlsCredentials.of(svid, f.bundles());
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) SpiffeTls.jdk(new SpiffeTrustManager(creds,
                PeerAuthorizer.anyVerified(), f.clock), new SpiffeKeyManager(creds)).getSocketFactory()
                .createSocket("127.0.0.1", f.controller().httpAddress().getPort());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static URI uri(TestFederation f, String path) {
        return URI.create("https://127.0.0.1:" + f.controller().httpAddress().getPort() + path);
    }

    private static HttpClient client(TestFederation f, X509Svid svid) throws Exception {
        SSLContext context;
        if (svid != null) {
            TlsCredentials creds = TlsCredentials.of(svid, f.bundles());
            context = SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(), f.clock),
                    new SpiffeKeyManager(creds));
        } else {
            // Like a Prometheus scraper: verify the controller's SVID against the bundle, present nothing.
            var creds = TlsCredentials.of(f.adminSvid(), f.bundles());
            context = SSLContext.getInstance("TLSv1.3");
            context.init(null, new TrustManager[] {new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(),
                    f.clock)}, new SecureRandom());
        }
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(10)).build();
    }
}
