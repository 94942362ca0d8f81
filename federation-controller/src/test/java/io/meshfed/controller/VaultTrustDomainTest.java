package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.ca.vault.testing.VaultTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member trust domain whose CA is Vault (its {@code ca/<td>/backend.json} names the vault backend): a gateway
 * joins with an SVID that Vault signed from the gateway's own CSR, chaining to Vault's root; with Vault down, a
 * join is UNAVAILABLE naming why, and works again once Vault is back; a backend name no backend has is refused
 * naming the backends.
 */
class VaultTrustDomainTest {
    private static final SpiffeId GW = SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw");

    @TempDir
    Path dir;

    @Test
    void aGatewayOfAVaultTrustDomainGetsAnSvidVaultSignedAndVaultDownIsUnavailable() throws Exception {
        try (VaultTestServer vault = VaultTestServer.start();
                TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            vault.mountPki("pki");
            X509Certificate root = vault.generateRoot("pki", "east root", Duration.ofDays(365));
            Vault admin = Vault.create(new VaultConfig().address(vault.address()).token(vault.rootToken())
                    .engineVersion(1).build());
            assertThat(admin.logical().write("pki/roles/spiffe", Map.of("allowed_uri_sans",
                    "spiffe://east.acme.mesh/*", "require_cn", false, "key_type", "any", "max_ttl", "720h",
                    "ttl", "24h", "basic_constraints_valid_for_non_ca", true)).getRestResponse().getStatus())
                    .isIn(200, 204);
            Path token = dir.resolve("vault-token");
            Files.writeString(token, vault.rootToken());
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
            Path caDir = Files.createDirectories(federation.dataDir.resolve("ca").resolve("east.acme.mesh"));
            Files.writeString(caDir.resolve("backend.json"), "{\"backend\": \"vault\", \"settings\": {\"address\": \""
                    + vault.address() + "\", \"mount\": \"pki\", \"role\": \"spiffe\", \"token-file\": \"" + token
                    + "\"}}");

            var stub = federation.admin();
            stub.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            stub.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            var joined = federation.join(federation.token("east", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "east",
                    "gw", GW);
            List<X509Certificate> chain = joined.svid().chain();
            assertThat(joined.svid().id()).isEqualTo(GW);
            assertThat(chain.get(0).getIssuerX500Principal()).isEqualTo(root.getSubjectX500Principal());
            chain.get(0).verify(root.getPublicKey());
            assertThat(vault.requests("/v1/pki/sign/spiffe")).isEqualTo(1);
            assertThat(vault.issuedCertificates("pki").values()).extracting(X509Certificate::getSerialNumber)
                    .contains(chain.get(0).getSerialNumber());

            vault.stop();
            String again = federation.token("east", Role.ROLE_GATEWAY);
            assertThatThrownBy(() -> federation.join(again, Role.ROLE_GATEWAY, "east", "gw2",
                    SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw2")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains("the CA of east.acme.mesh cannot issue"
                                + " now").contains("unreachable").contains("retry later");
                    });
            vault.resume();
            assertThat(federation.join(federation.token("east", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "east", "gw3",
                    SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw3")).svid().id().toString())
                    .endsWith("/gw3");
        }
    }

    @Test
    void aBackendNoBackendHasIsRefusedNamingTheBackends() throws Exception {
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"))) {
            Path caDir = Files.createDirectories(federation.dataDir.resolve("ca").resolve("west.acme.mesh"));
            Files.writeString(caDir.resolve("backend.json"), "{\"backend\": \"hsm\"}");
            var stub = federation.admin();
            stub.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            assertThatThrownBy(() -> stub.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm")
                    .setNetwork("west").build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                        assertThat(e.getStatus().getDescription()).contains("unknown CA backend 'hsm'; the backends"
                                + " are builtin, provided, vault, external");
                    });
        }
    }
}
