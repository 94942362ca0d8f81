package io.meshfed.edge;

import com.sun.net.httpserver.HttpServer;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.controller.testing.TestFederation;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** Backends, route definitions and HTTP calls shared by the edge gateway's tests. */
final class EdgeFixtures {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private EdgeFixtures() {}

    /** A route definition in shortcut form: arguments _genkey_0, _genkey_1, ... */
    static RouteDefinition def(String name, String... values) {
        RouteDefinition.Builder b = RouteDefinition.newBuilder().setName(name);
        for (int i = 0; i < values.length; i++) {
            b.addArgs(RouteArg.newBuilder().setKey("_genkey_" + i).setValue(values[i]));
        }
        return b.build();
    }

    /** A route definition with named arguments, given as key, value, key, value, ... */
    static RouteDefinition named(String name, String... keyValues) {
        RouteDefinition.Builder b = RouteDefinition.newBuilder().setName(name);
        for (int i = 0; i < keyValues.length; i += 2) {
            b.addArgs(RouteArg.newBuilder().setKey(keyValues[i]).setValue(keyValues[i + 1]));
        }
        return b.build();
    }

    /** An HTTP backend answering "{body} {path}"; the first {@code failFirst} requests get a 500. */
    static HttpServer backend(String body, int failFirst, AtomicInteger requests) throws Exception {
        // The JDK server writes headers and body separately: without TCP_NODELAY, Nagle and delayed ACKs add 40 ms.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", ex -> {
            int n = requests.incrementAndGet();
            byte[] bytes = (body + " " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(n <= failFirst ? 500 : 200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
        return server;
    }

    static HttpServer backend(String body) throws Exception {
        return backend(body, 0, new AtomicInteger());
    }

    static HttpResponse<String> get(int port, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A federation in {@code dir} with member {@code west} (network west) for the edge to join, and one route
     * {@code id} that takes {@code pathPattern} to {@code uri}.
     */
    static TestFederation westWithRoute(Path dir, String id, String uri, String pathPattern) throws Exception {
        TestFederation federation = TestFederation.start(dir);
        try {
            federation.admin().createNetwork(io.meshfed.api.v1.CreateNetworkRequest.newBuilder().setName("west")
                    .build());
            federation.admin().addMember(io.meshfed.api.v1.AddMemberRequest.newBuilder().setName("west")
                    .setType("vm").setNetwork("west").build());
            federation.admin().applyRoutes(io.meshfed.api.v1.RouteSet.newBuilder().addRoutes(io.meshfed.api.v1.Route
                    .newBuilder().setId(id).setUri(uri).addPredicates(def("Path", pathPattern))).build());
            return federation;
        } catch (Exception | Error e) {
            federation.close();
            throw e;
        }
    }

    /** A self-signed certificate for 127.0.0.1 and its key, written to {@code <name>.crt} and {@code <name>.key}. */
    record CertificateFiles(X509Certificate certificate, Path certFile, Path keyFile) {}

    static CertificateFiles selfSignedFiles(Path dir, String name) throws Exception {
        KeyPair keys = java.security.KeyPairGenerator.getInstance("EC").generateKeyPair();
        X509Certificate cert = selfSigned(keys);
        Path certFile = dir.resolve(name + ".crt");
        Path keyFile = dir.resolve(name + ".key");
        java.nio.file.Files.writeString(certFile, pem(cert));
        java.nio.file.Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder(64,
                "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        return new CertificateFiles(cert, certFile, keyFile);
    }

    /** The edge gateway application on a random port, joined to the federation as member {@code member}. */
    static ConfigurableApplicationContext edge(TestFederation federation, String member, Path stateDir,
            String... more) throws Exception {
        return edge(federation, member, "edge-1", stateDir, more);
    }

    /** As {@link #edge(TestFederation, String, Path, String...)}, for a second gateway named {@code name}. */
    static ConfigurableApplicationContext edge(TestFederation federation, String member, String name, Path stateDir,
            String... more) throws Exception {
        String[] base = {"--server.port=0", "--meshfed.edge.controller=127.0.0.1:" + federation.address().getPort(),
            "--meshfed.edge.member=" + member, "--meshfed.edge.name=" + name, "--meshfed.edge.state-dir=" + stateDir,
            "--meshfed.edge.token=" + federation.token(member, Role.ROLE_EDGE), "--management.server.port=0"};
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return SpringApplication.run(EdgeApplication.class, args);
    }

    /** A self-signed certificate for 127.0.0.1 and localhost, valid for an hour. */
    static X509Certificate selfSigned(KeyPair keys) throws Exception {
        X500Name name = new X500Name("CN=edge.test");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), name, keys.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.dNSName, "localhost")}));
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    /** {@code o} (a certificate, a key) in PEM. */
    static String pem(Object o) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
