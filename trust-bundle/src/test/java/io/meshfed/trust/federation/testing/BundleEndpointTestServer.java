package io.meshfed.trust.federation.testing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.internal.CertificateBuilder;
import io.meshfed.trust.testing.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * A SPIRE-style SPIFFE bundle endpoint for tests, written to the SPIFFE Federation standard
 * (SPIFFE_Federation.md) and SPIRE's documented server behaviour, since no SPIRE server can be installed here.
 * Certificates are real (BouncyCastle): the trust domain has its own CA ({@link TestPki}, "SPIRE's"), which issues
 * workload SVIDs ({@link #issue}) that meshfed can be asked to trust.
 * <ul>
 *   <li>{@code GET} on any path answers 200 with the trust domain's SPIFFE bundle (Trust Domain and Bundle section
 *       4): one {@code x509-svid} key per root with {@code x5c} and no {@code kid}, one {@code jwt-svid} key with a
 *       {@code kid}, {@code spiffe_sequence} and {@code spiffe_refresh_hint}; {@code Content-Type:
 *       application/json}. Other methods answer 405. No client certificate is asked for (section 5.1).</li>
 *   <li>{@link Profile#HTTPS_WEB}: the server certificate is a web PKI one (DNS {@code localhost} and the bound IP
 *       address as SANs) from a CA of the server's own, {@link #webCaPem()}; {@link Profile#HTTPS_SPIFFE}: the server
 *       presents the X509-SVID {@code spiffe://<td>/spire/server} (SPIRE's server ID) from the trust domain's CA.</li>
 *   <li>What a test changes: {@link #rotate()} (a new CA whose root joins the bundle, sequence + 1, as SPIRE's
 *       preparation of a new CA does), {@link #dropOldRoots()}, {@link #sequence(long)}, {@link #refreshHint},
 *       {@link #serveRaw(String)} (garbage), {@link #expireServerCertificate()}, {@link #delay(Duration)} (a
 *       stall longer than the client's timeout); {@link #requests()} counts the GETs.</li>
 * </ul>
 */
public final class BundleEndpointTestServer implements AutoCloseable {
    /** The two profiles of the SPIFFE Federation standard, section 5. */
    public enum Profile {
        HTTPS_WEB("https_web"), HTTPS_SPIFFE("https_spiffe");

        private final String label;

        Profile(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Profile profile;
    private final TrustDomain trustDomain;
    private final InetAddress address;
    private final Instant now;
    private final List<TestPki> cas = new ArrayList<>();
    private final KeyPair jwtKey = KeyAlgorithm.EC_P256.generate();
    private final KeyPair webCaKeys = KeyAlgorithm.EC_P256.generate();
    private final X509Certificate webCa;
    private final AtomicReference<ServerCredential> credential = new AtomicReference<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final HttpsServer server;
    private final ExecutorService executor;
    private volatile long sequence = 1;
    private volatile Duration refreshHint = Duration.ofMinutes(5);
    private volatile String raw;
    private volatile Duration delay = Duration.ZERO;

    private record ServerCredential(X509Certificate[] chain, PrivateKey key) {}

    private BundleEndpointTestServer(Profile profile, String trustDomain, InetAddress address, Instant now)
            throws IOException {
        this.profile = requireNonNull(profile, "profile");
        this.trustDomain = TrustDomain.parse(trustDomain);
        this.address = requireNonNull(address, "address");
        this.now = requireNonNull(now, "now");
        cas.add(TestPki.create(trustDomain, now));
        webCa = CertificateBuilder.builder().subject("CN=bundle endpoint test web CA,O=meshfed-test")
                .selfSigned(webCaKeys.getPublic(), webCaKeys.getPrivate())
                .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(3650)))
                .ca(true, null).keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign).build();
        credential.set(serverCredential(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30))));
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(new KeyManager[] {new SwappableKeyManager()}, null, null);
            server = HttpsServer.create(new InetSocketAddress(address, 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot make the test server's TLS context: " + e, e);
        }
        server.createContext("/", this::handle);
        executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "bundle-endpoint-test-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.start();
    }

    /** A bundle endpoint of {@code trustDomain} on {@code address}, port chosen by the system. */
    public static BundleEndpointTestServer start(Profile profile, String trustDomain, InetAddress address)
            throws IOException {
        return new BundleEndpointTestServer(profile, trustDomain, address, Instant.now());
    }

    public Profile profile() {
        return profile;
    }

    public TrustDomain trustDomain() {
        return trustDomain;
    }

    /** {@code https://<ip>:<port>/}: SPIRE serves the bundle on every path; the root is what operators configure. */
    public URI url() {
        return URI.create("https://" + address.getHostAddress() + ":" + server.getAddress().getPort() + "/");
    }

    /** {@code https://localhost:<port>/}, for checks of the web certificate's host name. */
    public URI localhostUrl() {
        return URI.create("https://localhost:" + server.getAddress().getPort() + "/");
    }

    /** The SPIFFE ID the https_spiffe server presents: SPIRE server's {@code spiffe://<td>/spire/server}. */
    public SpiffeId endpointSpiffeId() {
        return trustDomain.workload("/spire/server");
    }

    /** PEM of the CA that signed the https_web server certificate: what a client passes as its CA file. */
    public String webCaPem() {
        return Pem.writeCertificates(List.of(webCa));
    }

    /** PEM of the current roots: the bundle an https_spiffe client is bootstrapped with out of band. */
    public String rootsPem() {
        return Pem.writeCertificates(roots());
    }

    public synchronized List<X509Certificate> roots() {
        return cas.stream().map(TestPki::root).toList();
    }

    /** An X509-SVID for {@code path} from the newest CA, as a SPIRE agent would hand a workload. */
    public synchronized X509Svid issue(String path) {
        return cas.get(cas.size() - 1).svid(path);
    }

    /** A new CA: its root joins the bundle and the sequence goes up; new SVIDs (and the server's) come from it. */
    public synchronized void rotate() {
        cas.add(TestPki.create(trustDomain.name(), now));
        sequence++;
        credential.set(serverCredential(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30))));
    }

    /** Keeps only the newest CA's root; the sequence goes up. */
    public synchronized void dropOldRoots() {
        TestPki newest = cas.get(cas.size() - 1);
        cas.clear();
        cas.add(newest);
        sequence++;
    }

    public long sequence() {
        return sequence;
    }

    /** Sets {@code spiffe_sequence} (for a test of a sequence that goes backwards). */
    public void sequence(long sequence) {
        this.sequence = sequence;
    }

    /** Sets {@code spiffe_refresh_hint}; null leaves it out of the bundle (the consumer's default applies). */
    public void refreshHint(Duration hint) {
        this.refreshHint = hint;
    }

    /** Serves {@code body} instead of the bundle (garbage, another trust domain's bundle...); null to stop. */
    public void serveRaw(String body) {
        this.raw = body;
    }

    /** From the next handshake on, the server's certificate (web or SVID) is expired. */
    public void expireServerCertificate() {
        credential.set(serverCredential(now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1))));
    }

    /** Answers each request only after {@code delay} (zero: at once). */
    public void delay(Duration delay) {
        this.delay = requireNonNull(delay, "delay");
    }

    public int requests() {
        return requests.get();
    }

    /** The bundle document exactly as served now (without {@link #serveRaw}). */
    public synchronized String bundleJson() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode keys = root.putArray("keys");
        for (TestPki ca : cas) {
            ObjectNode key = keys.addObject();
            key.put("use", "x509-svid");
            ecParameters(key, (ECPublicKey) ca.root().getPublicKey());
            try {
                key.putArray("x5c").add(Base64.getEncoder().encodeToString(ca.root().getEncoded()));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
        ObjectNode jwt = keys.addObject();
        jwt.put("use", "jwt-svid");
        ecParameters(jwt, (ECPublicKey) jwtKey.getPublic());
        jwt.put("kid", "spire-jwt-" + Integer.toHexString(jwtKey.getPublic().hashCode()));
        root.put("spiffe_sequence", sequence);
        Duration hint = refreshHint;
        if (hint != null) {
            root.put("spiffe_refresh_hint", hint.toSeconds());
        }
        return root.toString();
    }

    private static void ecParameters(ObjectNode key, ECPublicKey ec) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        key.put("kty", "EC");
        key.put("crv", "P-256");
        key.put("x", b64.encodeToString(fixed(ec.getW().getAffineX())));
        key.put("y", b64.encodeToString(fixed(ec.getW().getAffineY())));
    }

    private static byte[] fixed(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(32, b.length);
        System.arraycopy(b, b.length - n, out, 32 - n, n);
        return out;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                send(exchange, 405, "text/plain", "use GET\n");
                return;
            }
            requests.incrementAndGet();
            Duration wait = delay;
            if (!wait.isZero()) {
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            String body = raw != null ? raw : bundleJson();
            send(exchange, 200, "application/json", body);
        } catch (IOException e) {
            // the client went away (its timeout): nothing to answer
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private synchronized ServerCredential serverCredential(Instant notBefore, Instant notAfter) {
        if (profile == Profile.HTTPS_SPIFFE) {
            TestPki ca = cas.get(cas.size() - 1);
            X509Svid svid = ca.leaf("/spire/server").validity(notBefore, notAfter).buildSvid();
            return new ServerCredential(svid.chain().toArray(X509Certificate[]::new), svid.privateKey());
        }
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        X509Certificate cert = CertificateBuilder.builder().subject("CN=localhost,O=meshfed-test")
                .issuedBy(webCa, webCaKeys.getPrivate()).publicKey(keys.getPublic())
                .validity(notBefore, notAfter).ca(false, null).keyUsage(KeyUsage.digitalSignature)
                .extendedKeyUsage(KeyPurposeId.id_kp_serverAuth)
                .dnsSan("localhost").ipSan(address.getHostAddress()).build();
        return new ServerCredential(new X509Certificate[] {cert, webCa}, keys.getPrivate());
    }

    /** Presents the current {@link ServerCredential}, so a test can swap it between handshakes. */
    private final class SwappableKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "server";

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return keyType.startsWith("EC") ? ALIAS : null; // every key here is ECDSA P-256
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return keyType.startsWith("EC") ? ALIAS : null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return credential.get().chain();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return credential.get().key();
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[0];
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
