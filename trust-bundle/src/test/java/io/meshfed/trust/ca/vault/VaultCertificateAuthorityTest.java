package io.meshfed.trust.ca.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.ca.CaException;
import io.meshfed.trust.ca.CaUnavailableException;
import io.meshfed.trust.ca.CertificateAuthority;
import io.meshfed.trust.ca.CertificateAuthorityContract;
import io.meshfed.trust.ca.IssuancePolicy;
import io.meshfed.trust.ca.IssuanceRefusedException;
import io.meshfed.trust.ca.SvidRequest;
import io.meshfed.trust.ca.vault.testing.VaultTestServer;
import io.meshfed.trust.testing.MutableClock;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Vault PKI backend against the Vault test server (Vault's documented HTTP API), running the contract every
 * backend runs, and what only this backend can meet: a role that allows other URI SANs, a token without the
 * rights, Vault down or sealed, and AppRole login with a renewed token. Root, then intermediate, in two mounts;
 * the role signs with the intermediate.
 */
class VaultCertificateAuthorityTest extends CertificateAuthorityContract {
    private static final Duration INTERMEDIATE_TTL = Duration.ofDays(30);
    private VaultTestServer vault;
    private X509Certificate intermediate;

    @Override
    protected CertificateAuthority newCa(Path dir, MutableClock clock) throws Exception {
        vault = VaultTestServer.start(clock);
        vault.mountPki("pki-root");
        vault.mountPki("pki");
        vault.generateRoot("pki-root", "east root", Duration.ofDays(365));
        intermediate = vault.intermediateOf("pki-root", "pki", "east intermediate", INTERMEDIATE_TTL);
        role(Map.of());
        return VaultCertificateAuthority.connect(TD, settings(new VaultSettings.Token(vault.rootToken())), clock);
    }

    @Override
    protected Instant signingNotAfter() {
        return intermediate.getNotAfter().toInstant();
    }

    @AfterEach
    void stopVault() {
        if (vault != null) {
            vault.close();
        }
    }

    private void role(Map<String, Object> extra) throws Exception {
        Map<String, Object> role = new HashMap<>(Map.of("allowed_uri_sans", "spiffe://" + TD.name() + "/*",
                "require_cn", false, "key_type", "any", "max_ttl", "8760h", "ttl", "24h", "server_flag", true,
                "client_flag", true, "basic_constraints_valid_for_non_ca", true));
        role.putAll(extra);
        Vault root = Vault.create(new VaultConfig().address(vault.address()).token(vault.rootToken())
                .engineVersion(1).build());
        assertThat(root.logical().write("pki/roles/spiffe", role).getRestResponse().getStatus()).isIn(200, 204);
    }

    private VaultSettings settings(VaultSettings.Credentials credentials) {
        return new VaultSettings(vault.uri(), "pki", "spiffe", credentials, "", Duration.ofSeconds(5));
    }

    private SvidRequest request(SpiffeId id) {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        return SvidRequest.of(CertificateSigningRequests.createDer(keys, id), id, Duration.ofHours(1));
    }

    @Test
    void vaultSignsTheRequestersCsrAndNoKeyIsEverSentOrKept() throws Exception {
        vault.resetRequests();
        ca.issue(request(HELLO), IssuancePolicy.anyInTrustDomain());
        assertThat(vault.requests("/v1/pki/sign/spiffe")).isEqualTo(1);
        assertThat(vault.requests()).doesNotContainKey("/v1/pki/issue/spiffe"); // issue/ would make the key in Vault
        assertThat(ca.backend()).isEqualTo("vault");
        assertThat(ca.signingChain()).containsExactly(intermediate);
    }

    @Test
    void aRoleThatAllowsUriSansOutsideTheTrustDomainIsRefusedWhenConfigured() throws Exception {
        for (String allowed : List.of("*", "spiffe://*", "spiffe://west.acme.mesh/*", "spiffe://east.acme.mesh.evil/*")) {
            role(Map.of("allowed_uri_sans", allowed));
            assertThatThrownBy(() -> VaultCertificateAuthority.connect(TD, settings(
                    new VaultSettings.Token(vault.rootToken())), clock))
                    .as(allowed).isInstanceOf(CaException.class)
                    .hasMessageContaining("allows URI SANs '" + allowed + "' outside trust domain east.acme.mesh");
        }
        role(Map.of("allowed_uri_sans", ""));
        assertThatThrownBy(() -> VaultCertificateAuthority.connect(TD, settings(
                new VaultSettings.Token(vault.rootToken())), clock)).hasMessageContaining("allows no URI SAN");
    }

    @Test
    void aRoleWhoseLeavesLackCaFalseIsRefused() throws Exception {
        role(Map.of("basic_constraints_valid_for_non_ca", false));
        assertThatThrownBy(() -> VaultCertificateAuthority.connect(TD, settings(
                new VaultSettings.Token(vault.rootToken())), clock))
                .hasMessageContaining("must set basic_constraints_valid_for_non_ca=true");
    }

    @Test
    void anUnknownRoleOrMountIsNamed() {
        assertThatThrownBy(() -> VaultCertificateAuthority.connect(TD, new VaultSettings(vault.uri(), "pki",
                "nope", new VaultSettings.Token(vault.rootToken()), "", Duration.ofSeconds(5)), clock))
                .isInstanceOf(CaException.class).hasMessageContaining("Vault has no role pki/roles/nope");
    }

    @Test
    void vaultDownOrSealedIsUnavailableWithItsReasonAndComesBack() throws Exception {
        vault.sealed(true);
        assertThatThrownBy(() -> ca.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()))
                .isInstanceOf(CaUnavailableException.class).hasMessageContaining("sealed");
        vault.sealed(false);
        vault.stop();
        assertThatThrownBy(() -> ca.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()))
                .isInstanceOf(CaUnavailableException.class).hasMessageContaining("unreachable");
        vault.resume();
        assertThat(ca.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()).id()).isEqualTo(HELLO);
    }

    @Test
    void aTokenWithoutTheRightToSignIsUnavailableNamingThePath() throws Exception {
        vault.policy("read-only", Map.of("pki/roles/spiffe", Set.of("read"), "pki/cert/ca_chain", Set.of("read")));
        String token = vault.createToken(Duration.ofHours(1), "read-only");
        CertificateAuthority limited = VaultCertificateAuthority.connect(TD, settings(new VaultSettings.Token(token)),
                clock);
        assertThatThrownBy(() -> limited.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()))
                .isInstanceOf(CaUnavailableException.class).hasMessageContaining("HTTP 403")
                .hasMessageContaining("pki/sign/spiffe");
    }

    @Test
    void aRequestVaultRefusesIsRefusedWithVaultsReason() throws Exception {
        role(Map.of("key_type", "rsa", "key_bits", 2048)); // EC CSRs are not this role's
        CertificateAuthority rsaOnly = VaultCertificateAuthority.connect(TD, settings(
                new VaultSettings.Token(vault.rootToken())), clock);
        assertThatThrownBy(() -> rsaOnly.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()))
                .isInstanceOfSatisfying(IssuanceRefusedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(IssuanceRefusedException.Reason.BACKEND_REFUSED);
                    assertThat(e.getMessage()).startsWith("Vault refused to sign: ");
                });
    }

    @Test
    void appRoleLogsInAndItsTokenIsRenewedBeforeItExpires() throws Exception {
        vault.policy("signer", Map.of("pki/sign/spiffe", Set.of("update"), "pki/roles/spiffe", Set.of("read"),
                "pki/cert/ca_chain", Set.of("read")));
        VaultTestServer.AppRoleCredentials app = vault.createAppRole("meshfed", Duration.ofMinutes(30),
                Duration.ofHours(10), "signer");
        CertificateAuthority viaAppRole = VaultCertificateAuthority.connect(TD, settings(
                new VaultSettings.AppRole("approle", app.roleId(), app.secretId())), clock);
        assertThat(viaAppRole.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()).id()).isEqualTo(HELLO);
        int logins = vault.requests("/v1/auth/approle/login");
        // Past two thirds of the 30 min lease: renewed before the next call, which succeeds.
        clock.set(clock.instant().plus(Duration.ofMinutes(25)));
        assertThat(viaAppRole.issue(request(HELLO), IssuancePolicy.anyInTrustDomain()).id()).isEqualTo(HELLO);
        assertThat(vault.requests("/v1/auth/token/renew-self")).isEqualTo(1);
        assertThat(vault.requests("/v1/auth/approle/login")).isEqualTo(logins);
    }

    @Test
    void throughItsBackendTheTokenComesFromAnOwnerOnlyFile() throws Exception {
        java.nio.file.Path token = dir.resolve("vault-token");
        java.nio.file.Files.writeString(token, vault.rootToken());
        java.nio.file.Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions
                .fromString("rw-r--r--"));
        Map<String, String> settings = Map.of("address", vault.address(), "mount", "pki", "role", "spiffe",
                "token-file", token.toString());
        io.meshfed.trust.ca.CaBackend backend = io.meshfed.trust.ca.CaBackends.standard().named("vault");
        assertThatThrownBy(() -> backend.open(new io.meshfed.trust.ca.CaBackend.Context(TD, dir, null, clock,
                settings))).isInstanceOf(CaException.class).hasMessageContaining("accessible by group or others");
        java.nio.file.Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions
                .fromString("rw-------"));
        assertThat(backend.open(new io.meshfed.trust.ca.CaBackend.Context(TD, dir, null, clock, settings))
                .backend()).isEqualTo("vault");
    }

    @Test
    void wrongAppRoleCredentialsAreNamedWithoutTheSecret() {
        assertThatThrownBy(() -> VaultCertificateAuthority.connect(TD, settings(
                new VaultSettings.AppRole("approle", "role-x", "secret-very-secret")), clock))
                .isInstanceOf(CaException.class).hasMessageContaining("logging in")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-very-secret"));
    }
}
