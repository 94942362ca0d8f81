package io.meshfed.controller.federation;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.model.FederationRecord;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SvidVerificationException;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import io.meshfed.trust.X509SvidVerifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Fetches an outside trust domain's bundle from its SPIFFE bundle endpoint (SPIFFE Federation, section 5), as
 * untrusted input: one GET, no redirects, at most {@value #MAX_BYTES} bytes, within the timeout (connect, each read,
 * and the whole answer), then {@link SpiffeBundleJson#decodeFederated} (bounded keys, CA roots of that trust domain
 * only). The server is authenticated by its profile:
 * <ul>
 *   <li>{@code https_web}: web PKI, the JDK's roots or the admin's CA PEM instead, and the URL's host name;</li>
 *   <li>{@code https_spiffe}: the server's X509-SVID verified against the bundle of the endpoint's trust domain (the
 *       last good bundle when the endpoint belongs to the federated trust domain, else, and before the first fetch,
 *       the admin's CA PEM) and its SPIFFE ID equal to the configured one; no host name check (section 5.2).</li>
 * </ul>
 * Thread-safe; each call blocks its thread for at most about the timeout.
 */
public final class BundleFetcher {
    /** The largest bundle document accepted. */
    public static final int MAX_BYTES = 1 << 20;

    private final Duration timeout;
    private final Clock clock;

    public BundleFetcher(Duration timeout, Clock clock) {
        this.timeout = requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        this.clock = requireNonNull(clock, "clock");
    }

    /** Why a fetch failed, in words for the federation's {@code last_error}. */
    public static final class FetchException extends Exception {
        FetchException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The bundle the federation's endpoint serves now. */
    public TrustBundle fetch(FederationRecord federation, Optional<TrustBundle> lastGood) throws FetchException {
        TrustDomain td = TrustDomain.parse(federation.trustDomain());
        URI url = URI.create(federation.bundleEndpoint());
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpsURLConnection connection;
        try {
            connection = (HttpsURLConnection) url.toURL().openConnection();
        } catch (IOException | ClassCastException e) {
            throw new FetchException("cannot open " + url + ": " + e.getMessage(), e);
        }
        try {
            configure(connection, federation, td, lastGood);
            connection.setInstanceFollowRedirects(false);
            connection.setConnectTimeout((int) timeout.toMillis());
            connection.setReadTimeout((int) timeout.toMillis());
            connection.setUseCaches(false);
            connection.setRequestProperty("Accept", "application/json");
            int status = connection.getResponseCode();
            if (status != HttpURLConnection.HTTP_OK) {
                throw new FetchException("the endpoint answered HTTP " + status + " (expected 200 with the bundle)",
                        null);
            }
            long declared = connection.getContentLengthLong();
            if (declared > MAX_BYTES) {
                throw new FetchException("the answer is " + declared + " bytes; at most " + MAX_BYTES
                        + " are read", null);
            }
            String body = read(connection.getInputStream(), deadline);
            try {
                return SpiffeBundleJson.decodeFederated(td, body);
            } catch (TrustFormatException e) {
                throw new FetchException("the endpoint's answer is not a valid bundle of " + td + ": "
                        + e.getMessage(), e);
            }
        } catch (SocketTimeoutException e) {
            throw new FetchException("timed out: no complete answer from " + url + " within " + timeout, e);
        } catch (SSLException e) {
            throw new FetchException(tlsProblem(e, federation), e);
        } catch (IOException e) {
            throw new FetchException("cannot reach " + url + ": " + e, e);
        } finally {
            connection.disconnect();
        }
    }

    private void configure(HttpsURLConnection connection, FederationRecord federation, TrustDomain td,
            Optional<TrustBundle> lastGood) throws FetchException {
        List<X509Certificate> caCerts = federation.caPem() == null || federation.caPem().isEmpty() ? List.of()
                : io.meshfed.trust.Pem.readCertificates(federation.caPem());
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            if (FederationRecord.PROFILE_SPIFFE.equals(federation.profile())) {
                SpiffeId expected = SpiffeId.parse(federation.endpointSpiffeId());
                TrustBundle verifyWith = expected.trustDomain().equals(td) && lastGood.isPresent() ? lastGood.get()
                        : TrustBundle.of(expected.trustDomain(), caCerts);
                tls.init(null, new TrustManager[] {new EndpointSvidTrust(verifyWith, expected)}, null);
                connection.setHostnameVerifier((host, session) -> true); // the SPIFFE ID is the identity
            } else {
                TrustManager[] managers = null; // the JDK's roots
                if (!caCerts.isEmpty()) {
                    KeyStore store = KeyStore.getInstance("PKCS12");
                    store.load(null, null);
                    for (int i = 0; i < caCerts.size(); i++) {
                        store.setCertificateEntry("ca-" + i, caCerts.get(i));
                    }
                    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
                            TrustManagerFactory.getDefaultAlgorithm());
                    tmf.init(store);
                    managers = tmf.getTrustManagers();
                }
                tls.init(null, managers, null);
                // the default host name verifier stays: web PKI checks the URL's host against the certificate
            }
            connection.setSSLSocketFactory(tls.getSocketFactory());
        } catch (GeneralSecurityException | IOException e) {
            throw new FetchException("cannot set up TLS for " + federation.bundleEndpoint() + ": " + e.getMessage(),
                    e);
        }
    }

    private static String read(InputStream in, long deadline) throws IOException, FetchException {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) != -1) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BYTES) {
                    throw new FetchException("the answer is over " + MAX_BYTES + " bytes; refused", null);
                }
                if (System.nanoTime() > deadline) {
                    throw new SocketTimeoutException("the answer took longer than the timeout");
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static String tlsProblem(SSLException e, FederationRecord federation) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException expired) {
                return "TLS: the endpoint's certificate has expired (" + expired.getMessage() + ")";
            }
            if (t instanceof SvidVerificationException svid) {
                return "TLS: the endpoint's SVID is refused (" + svid.reason().label() + "): " + svid.getMessage();
            }
        }
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return "TLS handshake with " + federation.bundleEndpoint() + " (" + federation.profile() + ") failed: "
                + root.getMessage();
    }

    /** https_spiffe: the server's X509-SVID must verify against one bundle and carry exactly one SPIFFE ID. */
    private final class EndpointSvidTrust extends X509ExtendedTrustManager {
        private final TrustBundle bundle;
        private final SpiffeId expected;

        EndpointSvidTrust(TrustBundle bundle, SpiffeId expected) {
            this.bundle = bundle;
            this.expected = expected;
        }

        private void verify(X509Certificate[] chain) throws SvidVerificationException {
            if (chain == null || chain.length == 0) {
                throw new SvidVerificationException(SvidVerificationException.Reason.EMPTY_CHAIN,
                        "the endpoint presented no certificate");
            }
            new X509SvidVerifier(clock).verify(Arrays.asList(chain), BundleSet.of(bundle), expected);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws SvidVerificationException {
            verify(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws SvidVerificationException {
            verify(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws SvidVerificationException {
            verify(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws SvidVerificationException {
            throw new SvidVerificationException(SvidVerificationException.Reason.NOT_AUTHORIZED, "client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws SvidVerificationException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws SvidVerificationException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
