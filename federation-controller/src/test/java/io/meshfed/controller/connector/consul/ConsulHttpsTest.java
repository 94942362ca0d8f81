package io.meshfed.controller.connector.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Consul agent over HTTPS ({@code --ca-file}): the agent's certificate is verified against the member's CA and
 * its host name (here the IP 127.0.0.1 in its SAN); another CA, or a certificate for another name, is refused with
 * the TLS reason; a CA with an http:// address is a configuration error.
 */
class ConsulHttpsTest {
    private HttpsServer agent;
    private X509Certificate ca;
    private X509Certificate otherCa;

    @BeforeEach
    void start() throws Exception {
        KeyPair caKeys = KeyAlgorithm.EC_P256.generate();
        ca = cert("CN=consul ca", caKeys, caKeys, null, true);
        otherCa = cert("CN=other ca", KeyAlgorithm.EC_P256.generate(), KeyAlgorithm.EC_P256.generate(), null, true);
        KeyPair serverKeys = KeyAlgorithm.EC_P256.generate();
        X509Certificate server = cert("CN=consul", serverKeys, caKeys, "127.0.0.1", false);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("agent", serverKeys.getPrivate(), new char[0], new Certificate[] {server, ca});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        agent = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        agent.setHttpsConfigurator(new HttpsConfigurator(tls));
        agent.createContext("/v1/catalog/datacenters", ex -> {
            byte[] body = "[\"dc1\"]".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        agent.start();
    }

    @AfterEach
    void stop() {
        agent.stop(0);
    }

    private URI address(String host) {
        return URI.create("https://" + host + ":" + agent.getAddress().getPort());
    }

    @Test
    void theAgentsCertificateIsVerifiedAgainstTheMembersCaAndItsName() {
        try (ConsulConnection c = ConsulConnection.open(address("127.0.0.1"), Pem.writeCertificates(List.of(ca)),
                Duration.ofSeconds(5))) {
            assertThat(c.client().getCatalogDatacenters().getValue()).containsExactly("dc1");
        }
        try (ConsulConnection c = ConsulConnection.open(address("127.0.0.1"), Pem.writeCertificates(
                List.of(otherCa)), Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> c.client().getCatalogDatacenters()).isInstanceOfSatisfying(
                    RuntimeException.class, e -> assertThat(ConsulCatalogWatch.reason(e))
                            .startsWith("TLS to the agent failed").contains("unable to find valid certification path"));
        }
        try (ConsulConnection c = ConsulConnection.open(address("localhost"), Pem.writeCertificates(List.of(ca)),
                Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> c.client().getCatalogDatacenters()).isInstanceOfSatisfying(
                    RuntimeException.class, e -> assertThat(ConsulCatalogWatch.reason(e))
                            .startsWith("TLS to the agent failed")
                            .contains("doesn't match any of the subject alternative names"));
        }
    }

    @Test
    void aCaWithAPlainAddressIsRefused() {
        assertThatThrownBy(() -> ConsulConnection.open(URI.create("http://127.0.0.1:8500"),
                Pem.writeCertificates(List.of(ca)), Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs an https:// Consul address");
    }

    private static X509Certificate cert(String subject, KeyPair keys, KeyPair issuer, String ip, boolean isCa)
            throws Exception {
        Instant now = Instant.now();
        X500Name name = new X500Name(subject);
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(isCa ? name : new X500Name("CN=consul ca"),
                BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minusSeconds(60)),
                Date.from(now.plus(Duration.ofHours(1))), name, keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        if (ip != null) {
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.iPAddress, ip)));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(issuer.getPrivate())));
    }
}
