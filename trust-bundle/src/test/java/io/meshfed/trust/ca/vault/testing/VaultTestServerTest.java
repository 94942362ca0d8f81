package io.meshfed.trust.ca.vault.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.response.AuthResponse;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.github.jopenlibs.vault.response.LookupResponse;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives {@link VaultTestServer} with vault-java-driver 6.2.1, pinned to Vault's documented behaviour. */
class VaultTestServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TD = "spiffe://east.acme.mesh";

    private VaultTestServer server;
    private Vault root;

    @BeforeEach
    void setUp() throws Exception {
        server = VaultTestServer.start();
        root = vault(server.rootToken());
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private Vault vault(String token) throws VaultException {
        VaultConfig config = new VaultConfig().address(server.address()).engineVersion(1).openTimeout(2)
                .readTimeout(5);
        if (token != null) {
            config.token(token);
        }
        return Vault.create(config.build());
    }

    /** Mount pki, an EC root via the API, and role spiffe (allowed_uri_sans spiffe://east.acme.mesh/*). */
    private void pkiWithSpiffeRole(Map<String, Object> extraRoleFields) throws VaultException {
        server.mountPki("pki");
        server.tuneMaxLeaseTtl("pki", Duration.ofDays(3650));
        ok(root.logical().write("pki/root/generate/internal",
                Map.of("common_name", "east root", "ttl", "87600h", "key_type", "ec", "key_bits", 256)));
        Map<String, Object> role = new HashMap<>(Map.of("allowed_uri_sans", TD + "/*", "require_cn", false,
                "key_type", "ec", "max_ttl", "24h", "ttl", "1h", "server_flag", true, "client_flag", true,
                "no_store", true));
        role.putAll(extraRoleFields);
        ok(root.logical().write("pki/roles/spiffe", role));
    }

    private static String csr(KeyPair kp, String id) {
        PKCS10CertificationRequest csr = CertificateSigningRequests.create(kp, SpiffeId.parse(id));
        return Pem.writeCsr(csr);
    }

    /** vault-java-driver returns a 4xx from logical() instead of throwing: insist on 200/204 here. */
    private static LogicalResponse ok(LogicalResponse r) {
        assertThat(r.getRestResponse().getStatus())
                .as(() -> new String(r.getRestResponse().getBody(), java.nio.charset.StandardCharsets.UTF_8))
                .isIn(200, 204);
        return r;
    }

    private static int status(VaultException e) {
        return e.getHttpStatusCode();
    }

    private JsonNode http(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.address() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("X-Vault-Token", token);
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode n = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("_status", r.statusCode());
        return n;
    }

    @Test
    void signedLeafVerifiesAgainstTheRootFromCertCaChain() throws Exception {
        pkiWithSpiffeRole(Map.of());
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        String id = TD + "/ns/default/sa/web";
        LogicalResponse r = ok(root.logical().write("pki/sign/spiffe",
                Map.of("csr", csr(kp, id), "uri_sans", id, "ttl", "10m", "format", "pem")));
        Map<String, String> data = r.getData();
        assertThat(data).containsKeys("certificate", "issuing_ca", "ca_chain", "serial_number", "expiration");
        X509Certificate leaf = Pem.readCertificates(data.get("certificate")).get(0);
        assertThat(leaf.getPublicKey()).isEqualTo(kp.getPublic());
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        assertThat(sans).contains(List.of(6, id));
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(Duration.between(Instant.now(), leaf.getNotAfter().toInstant()))
                .isBetween(Duration.ofMinutes(9), Duration.ofMinutes(11));
        assertThat(Long.parseLong(data.get("expiration"))).isEqualTo(leaf.getNotAfter().toInstant().getEpochSecond());
        assertThat(data.get("serial_number")).matches("[0-9a-f]{2}(:[0-9a-f]{2})+");

        LogicalResponse chain = ok(root.logical().read("pki/cert/ca_chain"));
        List<X509Certificate> cas = Pem.readCertificates(chain.getData().get("certificate"));
        assertThat(cas).hasSize(1);
        X509Certificate ca = cas.get(0);
        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=east root");
        assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        ca.verify(ca.getPublicKey());
        leaf.verify(ca.getPublicKey());
        validate(leaf, List.of(), ca);
        // the raw endpoints carry the same CA
        HttpResponse<String> raw = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(server.address() + "/v1/pki/ca_chain")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(Pem.readCertificates(raw.body())).containsExactly(ca);
        HttpResponse<String> caPem = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(server.address() + "/v1/pki/ca/pem")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(Pem.readCertificates(caPem.body())).containsExactly(ca);
        assertThat(server.requests("/v1/pki/sign/spiffe")).isEqualTo(1);
        assertThat(server.requests("/v1/pki/cert/ca_chain")).isEqualTo(1);
        // no_store: the leaf is not kept
        assertThat(server.issuedCertificates("pki")).doesNotContainKey(data.get("serial_number"));
    }

    private static void validate(X509Certificate leaf, List<X509Certificate> intermediates, X509Certificate anchor)
            throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> path = new java.util.ArrayList<>();
        path.add(leaf);
        path.addAll(intermediates);
        PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        p.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(path), p);
    }

    @Test
    void uriSanOutsideTheRoleIsRefusedWith400() throws Exception {
        pkiWithSpiffeRole(Map.of());
        String other = "spiffe://west.acme.mesh/ns/default/sa/web";
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        // vault-java-driver 6.2.1 does not throw on a 4xx (but 412) from logical(): the status is in the response.
        LogicalResponse refused = root.logical().write("pki/sign/spiffe",
                Map.of("csr", csr(kp, other), "uri_sans", other));
        assertThat(refused.getRestResponse().getStatus()).isEqualTo(400);
        assertThat(refused.getData()).isEmpty();
        assertThat(new String(refused.getRestResponse().getBody(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("{\"errors\":[\"URI Subject Alternative Names were provided via CSR which are not valid "
                        + "for this role\"]}");
        // with use_csr_sans=false, uri_sans of the API is what counts
        ok(root.logical().write("pki/roles/api-sans", Map.of("allowed_uri_sans", TD + "/*", "require_cn", false,
                "use_csr_sans", false, "key_type", "ec")));
        JsonNode r = http("POST", "/v1/pki/sign/api-sans", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", csr(kp, TD + "/a"), "uri_sans", other)));
        assertThat(r.get("_status").asInt()).isEqualTo(400);
        assertThat(r.get("errors").get(0).asText())
                .isEqualTo("URI Subject Alternative Names were provided via CSR which are not valid for this role");
        JsonNode ok = http("POST", "/v1/pki/sign/api-sans", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", csr(kp, other), "uri_sans", TD + "/b")));
        assertThat(ok.get("_status").asInt()).isEqualTo(200);
        X509Certificate leaf = Pem.readCertificates(ok.at("/data/certificate").asText()).get(0);
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, TD + "/b"));
    }

    @Test
    void requireCnIsOnByDefault() throws Exception {
        server.mountPki("pki");
        server.generateRoot("pki", "root", Duration.ofDays(30));
        ok(root.logical().write("pki/roles/strict", Map.of("allowed_uri_sans", TD + "/*", "key_type", "ec",
                "allow_any_name", true, "ttl", "1h")));
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        JsonNode r = http("POST", "/v1/pki/sign/strict", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", csr(kp, TD + "/a"))));
        assertThat(r.get("_status").asInt()).isEqualTo(400);
        assertThat(r.get("errors").get(0).asText()).isEqualTo("the common_name field is required, or must be "
                + "provided in a CSR with \"use_csr_common_name\" set to true, unless \"require_cn\" is set to false");
        JsonNode role = http("GET", "/v1/pki/roles/strict", server.rootToken(), null);
        assertThat(role.at("/data/require_cn").asBoolean()).isTrue();
        assertThat(role.at("/data/use_csr_common_name").asBoolean()).isTrue();
        assertThat(role.at("/data/allowed_uri_sans/0").asText()).isEqualTo(TD + "/*");
        // with a common_name it signs, and the CN is in the subject and as a DNS SAN
        LogicalResponse ok = ok(root.logical().write("pki/sign/strict",
                Map.of("csr", csr(kp, TD + "/a"), "common_name", "web.east")));
        X509Certificate leaf = Pem.readCertificates(ok.getData().get("certificate")).get(0);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=web.east");
        assertThat(leaf.getSubjectAlternativeNames()).contains(List.of(2, "web.east"), List.of(6, TD + "/a"));
    }

    @Test
    void roleReadWriteAndUnknownRole404() throws Exception {
        pkiWithSpiffeRole(Map.of());
        LogicalResponse r = ok(root.logical().read("pki/roles/spiffe"));
        assertThat(r.getData()).containsEntry("key_type", "ec").containsEntry("key_bits", "256")
                .containsEntry("max_ttl", "86400").containsEntry("no_store", "true");
        JsonNode missing = http("GET", "/v1/pki/roles/nope", server.rootToken(), null);
        assertThat(missing.get("_status").asInt()).isEqualTo(404);
        assertThat(missing.get("errors")).isEmpty();
        LogicalResponse viaDriver = root.logical().read("pki/roles/nope");
        assertThat(viaDriver.getRestResponse().getStatus()).isEqualTo(404);
        assertThat(viaDriver.getData()).isEmpty();
    }

    @Test
    void keyTypeAndTtlAreEnforced() throws Exception {
        pkiWithSpiffeRole(Map.of());
        KeyPair rsa = KeyAlgorithm.RSA_2048.generate();
        JsonNode r = http("POST", "/v1/pki/sign/spiffe", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", csr(rsa, TD + "/a"))));
        assertThat(r.get("_status").asInt()).isEqualTo(400);
        assertThat(r.get("errors").get(0).asText()).isEqualTo("role requires keys of type ec");
        // ttl above max_ttl (24h) is capped to it
        KeyPair ec = KeyAlgorithm.EC_P256.generate();
        LogicalResponse ok = ok(root.logical().write("pki/sign/spiffe", Map.of("csr", csr(ec, TD + "/a"), "ttl",
                "100h")));
        X509Certificate leaf = Pem.readCertificates(ok.getData().get("certificate")).get(0);
        assertThat(Duration.between(Instant.now(), leaf.getNotAfter().toInstant()))
                .isBetween(Duration.ofHours(23), Duration.ofHours(24).plusMinutes(1));
        // a tampered CSR is refused
        String good = csr(ec, TD + "/a");
        PKCS10CertificationRequest parsed = Pem.readCsr(good);
        byte[] der = parsed.getEncoded();
        der[der.length - 5] ^= 0x01;
        String bad = "-----BEGIN CERTIFICATE REQUEST-----\n" + java.util.Base64.getMimeEncoder().encodeToString(der)
                + "\n-----END CERTIFICATE REQUEST-----\n";
        JsonNode refused = http("POST", "/v1/pki/sign/spiffe", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", bad)));
        assertThat(refused.get("_status").asInt()).isEqualTo(400);
    }

    @Test
    void leafBeyondTheCaExpiryIsRefusedOrTruncated() throws Exception {
        server.mountPki("pki");
        X509Certificate ca = server.generateRoot("pki", "short root", Duration.ofHours(2));
        ok(root.logical().write("pki/roles/spiffe", Map.of("allowed_uri_sans", TD + "/*", "require_cn", false,
                "key_type", "ec")));
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        JsonNode r = http("POST", "/v1/pki/sign/spiffe", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", csr(kp, TD + "/a"), "ttl", "5h")));
        assertThat(r.get("_status").asInt()).isEqualTo(400);
        assertThat(r.get("errors").get(0).asText()).startsWith("cannot satisfy request, as TTL would result in "
                + "notAfter of ").contains("that is beyond the expiration of the CA certificate at");
        server.leafNotAfterBehavior("pki", "truncate");
        LogicalResponse ok = ok(root.logical().write("pki/sign/spiffe", Map.of("csr", csr(kp, TD + "/a"), "ttl",
                "5h")));
        assertThat(Pem.readCertificates(ok.getData().get("certificate")).get(0).getNotAfter())
                .isEqualTo(ca.getNotAfter());
    }

    @Test
    void intermediateChainViaTheApi() throws Exception {
        server.mountPki("root-ca");
        server.tuneMaxLeaseTtl("root-ca", Duration.ofDays(3650));
        ok(root.logical().write("root-ca/root/generate/internal",
                Map.of("common_name", "acme root", "ttl", "87600h", "key_type", "ec")));
        ok(root.logical().write("sys/mounts/pki-east", Map.of("type", "pki")));
        String csr = ok(root.logical().write("pki-east/intermediate/generate/internal",
                Map.of("common_name", "east intermediate", "key_type", "ec"))).getData().get("csr");
        Map<String, String> signed = ok(root.logical().write("root-ca/root/sign-intermediate",
                Map.of("csr", csr, "common_name", "east intermediate", "ttl", "720h", "format", "pem"))).getData();
        ok(root.logical().write("pki-east/intermediate/set-signed",
                Map.of("certificate", signed.get("certificate") + "\n" + signed.get("issuing_ca"))));
        ok(root.logical().write("pki-east/roles/spiffe", Map.of("allowed_uri_sans", TD + "/*", "require_cn", false,
                "key_type", "ec", "ttl", "1h")));
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        Map<String, String> leafData = ok(root.logical().write("pki-east/sign/spiffe",
                Map.of("csr", csr(kp, TD + "/a")))).getData();
        List<X509Certificate> chain = Pem.readCertificates(ok(root.logical().read("pki-east/cert/ca_chain")).getData()
                .get("certificate"));
        assertThat(chain).hasSize(2);
        assertThat(chain.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=east intermediate");
        assertThat(chain.get(1).getSubjectX500Principal().getName()).isEqualTo("CN=acme root");
        X509Certificate leaf = Pem.readCertificates(leafData.get("certificate")).get(0);
        validate(leaf, List.of(chain.get(0)), chain.get(1));
        JsonNode raw = http("POST", "/v1/pki-east/sign/spiffe", server.rootToken(),
                JSON.writeValueAsString(Map.of("csr", csr(kp, TD + "/b"))));
        assertThat(raw.at("/data/ca_chain")).hasSize(2);
        assertThat(Pem.readCertificates(raw.at("/data/issuing_ca").asText())).containsExactly(chain.get(0));
        // sys/mounts lists both PKI mounts
        JsonNode mounts = http("GET", "/v1/sys/mounts", server.rootToken(), null);
        assertThat(mounts.at("/data/root-ca~1/type").asText()).isEqualTo("pki");
        assertThat(mounts.at("/data/pki-east~1/type").asText()).isEqualTo("pki");
        // and the test shortcut builds the same shape
        X509Certificate west = server.intermediateOf("root-ca", "pki-west", "west intermediate",
                Duration.ofDays(30));
        assertThat(server.caChain("pki-west")).containsExactly(west, chain.get(1));
    }

    @Test
    void signWithoutACaIsRefused() throws Exception {
        server.mountPki("empty");
        ok(root.logical().write("empty/roles/r", Map.of("allowed_uri_sans", TD + "/*", "require_cn", false,
                "key_type", "ec")));
        LogicalResponse r = root.logical().write("empty/sign/r",
                Map.of("csr", csr(KeyAlgorithm.EC_P256.generate(), TD + "/a")));
        assertThat(r.getRestResponse().getStatus()).isEqualTo(400);
        LogicalResponse unknownRole = root.logical().write("empty/sign/nope",
                Map.of("csr", csr(KeyAlgorithm.EC_P256.generate(), TD + "/a")));
        assertThat(unknownRole.getRestResponse().getStatus()).isEqualTo(400);
        assertThat(new String(unknownRole.getRestResponse().getBody(), java.nio.charset.StandardCharsets.UTF_8))
                .contains("unknown role: nope");
    }

    @Test
    void issueMakesTheKeyInTheServer() throws Exception {
        pkiWithSpiffeRole(Map.of());
        Map<String, String> d = ok(root.logical().write("pki/issue/spiffe", Map.of("uri_sans", TD + "/x"))).getData();
        assertThat(d).containsKeys("private_key", "private_key_type", "certificate");
        assertThat(d.get("private_key_type")).isEqualTo("ec");
        X509Certificate leaf = Pem.readCertificates(d.get("certificate")).get(0);
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, TD + "/x"));
    }

    @Test
    void tokensExpireAndMissingTokenIs400() throws Exception {
        pkiWithSpiffeRole(Map.of());
        String token = server.createToken(Duration.ofMinutes(5), "root");
        Vault v = vault(token);
        assertThat(ok(v.logical().read("pki/roles/spiffe")).getData()).containsKey("allowed_uri_sans");
        server.expire(token);
        LogicalResponse denied = v.logical().read("pki/roles/spiffe");
        assertThat(denied.getRestResponse().getStatus()).isEqualTo(403);
        assertThat(new String(denied.getRestResponse().getBody(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("{\"errors\":[\"permission denied\"]}");
        assertThatThrownBy(() -> v.auth().lookupSelf())
                .isInstanceOfSatisfying(VaultException.class, e -> assertThat(status(e)).isEqualTo(403));
        JsonNode missing = http("GET", "/v1/pki/roles/spiffe", null, null);
        assertThat(missing.get("_status").asInt()).isEqualTo(400);
        assertThat(missing.get("errors").get(0).asText()).isEqualTo("missing client token");
        server.missingTokenStatus(403);
        JsonNode missing403 = http("GET", "/v1/pki/roles/spiffe", null, null);
        assertThat(missing403.get("_status").asInt()).isEqualTo(403);
        assertThat(missing403.get("errors").get(0).asText()).isEqualTo("permission denied");
        // cert/* is unauthenticated in the PKI engine, as are ca/pem and ca_chain
        assertThat(http("GET", "/v1/pki/cert/ca_chain", null, null).get("_status").asInt()).isEqualTo(200);
        JsonNode unknown = http("GET", "/v1/pki/roles/spiffe", "hvs.nope", null);
        assertThat(unknown.get("_status").asInt()).isEqualTo(403);
        // advancing the clock past the TTL expires a token too
        String shortLived = server.createToken(Duration.ofSeconds(30), "root");
        server.advance(Duration.ofSeconds(31));
        assertThat(http("GET", "/v1/auth/token/lookup-self", shortLived, null).get("_status").asInt()).isEqualTo(403);
    }

    @Test
    void policiesLimitPaths() throws Exception {
        pkiWithSpiffeRole(Map.of());
        server.policy("pki-sign", Map.of("pki/sign/spiffe", Set.of("update"), "pki/roles/spiffe", Set.of("read")));
        String token = server.createToken(Duration.ofHours(1), "pki-sign");
        Vault v = vault(token);
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        assertThat(ok(v.logical().write("pki/sign/spiffe", Map.of("csr", csr(kp, TD + "/a")))).getData())
                .containsKey("certificate");
        assertThat(ok(v.logical().read("pki/roles/spiffe")).getData()).containsKey("allowed_uri_sans");
        assertThat(ok(v.logical().read("pki/cert/ca_chain")).getData()).containsKey("certificate");
        assertThat(v.logical().write("pki/roles/spiffe", Map.of("allow_any_name", true)).getRestResponse()
                .getStatus()).isEqualTo(403);
        JsonNode denied = http("POST", "/v1/pki/root/generate/internal", token, "{\"common_name\":\"x\"}");
        assertThat(denied.get("_status").asInt()).isEqualTo(403);
        assertThat(denied.get("errors").get(0).asText()).isEqualTo("1 error occurred:\n\t* permission denied\n\n");
        JsonNode mounts = http("GET", "/v1/sys/mounts", token, null);
        assertThat(mounts.get("_status").asInt()).isEqualTo(403);
        // the default policy still lets it look itself up
        assertThat(v.auth().lookupSelf().getPolicies()).containsExactlyInAnyOrder("pki-sign", "default");
    }

    @Test
    void appRoleLoginAndRenewalExtendExpiry() throws Exception {
        pkiWithSpiffeRole(Map.of());
        server.policy("pki-sign", Map.of("pki/sign/spiffe", Set.of("update")));
        VaultTestServer.AppRoleCredentials creds = server.createAppRole("controller", Duration.ofMinutes(10),
                Duration.ofHours(1), "pki-sign");
        AuthResponse login = vault(null).auth().loginByAppRole(creds.roleId(), creds.secretId());
        String token = login.getAuthClientToken();
        assertThat(token).startsWith("hvs.");
        assertThat(login.getAuthLeaseDuration()).isEqualTo(600);
        assertThat(login.isAuthRenewable()).isTrue();
        assertThat(login.getAuthPolicies()).containsExactlyInAnyOrder("pki-sign", "default");
        Vault v = vault(token);
        LookupResponse look = v.auth().lookupSelf();
        assertThat(look.getId()).isEqualTo(token);
        assertThat(look.isRenewable()).isTrue();
        assertThat(look.getTTL()).isBetween(599L, 600L);

        server.advance(Duration.ofMinutes(8));
        Instant before = server.tokenExpiry(token);
        assertThat(v.auth().lookupSelf().getTTL()).isBetween(119L, 120L);
        AuthResponse renewed = v.auth().renewSelf();
        assertThat(renewed.getAuthClientToken()).isEqualTo(token);
        assertThat(renewed.getAuthLeaseDuration()).isEqualTo(600);
        assertThat(server.tokenExpiry(token)).isAfter(before);
        assertThat(v.auth().lookupSelf().getTTL()).isBetween(599L, 600L);
        // an explicit increment, capped by token_max_ttl (1h from login, 8 minutes ago)
        AuthResponse capped = v.auth().renewSelf(3600);
        assertThat(capped.getAuthLeaseDuration()).isBetween(3119L, 3120L);
        server.advance(Duration.ofMinutes(53));
        assertThatThrownBy(() -> v.auth().renewSelf())
                .isInstanceOfSatisfying(VaultException.class, e -> assertThat(status(e)).isEqualTo(403));
        assertThat(server.requests("/v1/auth/token/renew-self")).isEqualTo(3);

        // a wrong secret_id
        JsonNode wrong = http("POST", "/v1/auth/approle/login", null,
                JSON.writeValueAsString(Map.of("role_id", creds.roleId(), "secret_id", "nope")));
        assertThat(wrong.get("_status").asInt()).isEqualTo(400);
        assertThat(wrong.get("errors").get(0).asText()).isEqualTo("invalid role or secret ID");
        assertThatThrownBy(() -> vault(null).auth().loginByAppRole(creds.roleId(), "nope"))
                .isInstanceOfSatisfying(VaultException.class, e -> assertThat(status(e)).isEqualTo(400));
    }

    @Test
    void policiesAndTokensViaTheApi() throws Exception {
        pkiWithSpiffeRole(Map.of());
        JsonNode put = http("PUT", "/v1/sys/policies/acl/signer", server.rootToken(), JSON.writeValueAsString(
                Map.of("policy", "path \"pki/sign/spiffe\" {\n  capabilities = [\"update\"]\n}\n"
                        + "path \"pki/roles/*\" { capabilities = [\"read\", \"list\"] }")));
        assertThat(put.get("_status").asInt()).isEqualTo(204);
        JsonNode created = http("POST", "/v1/auth/token/create", server.rootToken(),
                JSON.writeValueAsString(Map.of("policies", List.of("signer"), "ttl", "15m")));
        assertThat(created.at("/auth/lease_duration").asLong()).isEqualTo(900);
        assertThat(created.at("/auth/renewable").asBoolean()).isTrue();
        Vault v = vault(created.at("/auth/client_token").asText());
        assertThat(ok(v.logical().read("pki/roles/spiffe")).getData()).containsKey("allowed_uri_sans");
        assertThat(ok(v.logical().write("pki/sign/spiffe",
                Map.of("csr", csr(KeyAlgorithm.EC_P256.generate(), TD + "/a")))).getData()).containsKey("certificate");
        assertThat(v.logical().write("pki/issue/spiffe", Map.of()).getRestResponse().getStatus()).isEqualTo(403);
        LookupResponse self = v.auth().lookupSelf();
        assertThat(self.getPolicies()).containsExactlyInAnyOrder("signer", "default");
        assertThat(self.getTTL()).isBetween(899L, 900L);
        assertThat(http("GET", "/v1/sys/policies/acl/signer", server.rootToken(), null).at("/data/policy").asText())
                .contains("path \"pki/sign/spiffe\" { capabilities = [\"update\"] }");
    }

    @Test
    void theDriversPkiApiReadsTheAnswers() throws Exception {
        pkiWithSpiffeRole(Map.of());
        KeyPair kp = KeyAlgorithm.EC_P256.generate();
        io.github.jopenlibs.vault.response.PkiResponse signed = root.pki("pki").issue("spiffe", null, null, null,
                "10m", io.github.jopenlibs.vault.api.pki.CredentialFormat.PEM, csr(kp, TD + "/a"));
        assertThat(signed.getRestResponse().getStatus()).isEqualTo(200);
        io.github.jopenlibs.vault.api.pki.Credential c = signed.getCredential();
        X509Certificate leaf = Pem.readCertificates(c.getCertificate()).get(0);
        assertThat(leaf.getPublicKey()).isEqualTo(kp.getPublic());
        assertThat(Pem.readCertificates(c.getIssuingCa())).containsExactlyElementsOf(server.caChain("pki"));
        assertThat(c.getCaChain()).hasSize(1);
        assertThat(c.getSerialNumber()).isEqualTo(VaultPkiMount.serial(leaf));
        io.github.jopenlibs.vault.response.PkiResponse role = root.pki("pki").getRole("spiffe");
        assertThat(role.getRestResponse().getStatus()).isEqualTo(200);
        assertThat(role.getRoleOptions().getKeyType()).isEqualTo("ec");
        assertThat(role.getRoleOptions().getMaxTtl()).isEqualTo("86400");
    }

    @Test
    void appRoleViaTheApi() throws Exception {
        ok(root.logical().write("auth/approle/role/ctl", Map.of("token_ttl", "20m", "token_policies", "a,b")));
        String roleId = ok(root.logical().read("auth/approle/role/ctl/role-id")).getData().get("role_id");
        String secretId = ok(root.logical().write("auth/approle/role/ctl/secret-id", Map.of())).getData()
                .get("secret_id");
        AuthResponse login = vault(null).auth().loginByAppRole(roleId, secretId);
        assertThat(login.getAuthLeaseDuration()).isEqualTo(1200);
        assertThat(login.getAuthPolicies()).containsExactlyInAnyOrder("a", "b", "default");
    }

    @Test
    void sealedAnswers503() throws Exception {
        pkiWithSpiffeRole(Map.of());
        server.sealed(true);
        assertThatThrownBy(() -> root.logical().read("pki/cert/ca_chain"))
                .isInstanceOfSatisfying(VaultException.class, e -> {
                    assertThat(status(e)).isEqualTo(503);
                    assertThat(e.getMessage()).contains("Vault is sealed");
                });
        JsonNode r = http("GET", "/v1/auth/token/lookup-self", server.rootToken(), null);
        assertThat(r.get("_status").asInt()).isEqualTo(503);
        assertThat(r.get("errors").get(0).asText()).isEqualTo("Vault is sealed");
        assertThat(http("GET", "/v1/sys/seal-status", null, null).get("sealed").asBoolean()).isTrue();
        server.sealed(false);
        assertThat(ok(root.logical().read("pki/cert/ca_chain")).getData()).containsKey("certificate");
    }

    @Test
    void stoppedRefusesConnectionsAndResumesOnTheSamePort() throws Exception {
        pkiWithSpiffeRole(Map.of());
        int port = server.port();
        server.stop();
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(server.address() + "/v1/sys/health")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(ConnectException.class);
        assertThatThrownBy(() -> root.logical().read("pki/cert/ca_chain")).isInstanceOf(VaultException.class)
                .hasStackTraceContaining("java.net.ConnectException");
        server.resume();
        assertThat(server.port()).isEqualTo(port);
        assertThat(ok(root.logical().read("pki/cert/ca_chain")).getData()).containsKey("certificate");
        assertThat(ok(root.logical().read("pki/roles/spiffe")).getData()).containsKey("allowed_uri_sans");
    }

    @Test
    void delayIsApplied() throws Exception {
        server.delay(Duration.ofMillis(300));
        long t0 = System.nanoTime();
        root.auth().lookupSelf();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void globMatchesLikeGoGlob() {
        assertThat(VaultPkiMount.glob(TD + "/*", TD + "/ns/a/sa/b")).isTrue();
        assertThat(VaultPkiMount.glob(TD + "/*", "spiffe://east.acme.mesh.evil/x")).isFalse();
        assertThat(VaultPkiMount.glob("spiffe://*/ns/*", "spiffe://a/ns/b")).isTrue();
        assertThat(VaultPkiMount.glob("spiffe://a/b", "spiffe://a/b")).isTrue();
        assertThat(VaultPkiMount.glob("spiffe://a/b", "spiffe://a/bc")).isFalse();
        assertThat(VaultAuth.matches("pki/sign/*", "pki/sign/spiffe")).isTrue();
        assertThat(VaultAuth.matches("pki/+/spiffe", "pki/sign/spiffe")).isTrue();
        assertThat(VaultAuth.matches("pki/sign/spiffe", "pki/sign/spiffe2")).isFalse();
        assertThat(VaultParams.parseDuration("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(VaultParams.parseDuration("720h")).isEqualTo(Duration.ofDays(30));
        assertThat(VaultParams.parseDuration("45")).isEqualTo(Duration.ofSeconds(45));
    }
}
