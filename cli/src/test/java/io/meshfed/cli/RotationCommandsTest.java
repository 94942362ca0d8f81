package io.meshfed.cli;

import io.meshfed.cli.RealControllerCli.Result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.ca.vault.testing.VaultTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshfed member add --ca vault}, {@code meshfed trust rotate}, {@code trust rotation status|abort} against a
 * real controller (TestFederation) and the Vault test server: a Vault CA is checked before anything is stored, a
 * rotation moves a trust domain from builtin to Vault and back, and each refusal is one line naming its reason.
 */
class RotationCommandsTest {
    @TempDir
    Path dir;
    private TestFederation federation;
    private VaultTestServer vault;
    private Map<String, String> env;
    private RealControllerCli cli;
    private Path tokenFile;

    @BeforeEach
    void start() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        cli = RealControllerCli.adminOf(federation, dir.resolve("home"));
        env = cli.env();
        vault = VaultTestServer.start();
        tokenFile = dir.resolve("vault-token");
        Files.writeString(tokenFile, vault.rootToken());
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
        ok("network", "create", "east");
    }

    @AfterEach
    void stop() {
        vault.close();
        federation.close();
    }


    private Result run(String... args) {
        return cli.run(args);
    }

    private Result ok(String... args) {
        return cli.ok(args);
    }

    private Result refused(int exit, String... args) {
        Result r = run(args);
        assertThat(r.exit()).as(r.out()).isEqualTo(exit);
        assertThat(r.err()).startsWith("meshfed: ").endsWith("\n");
        assertThat(r.err()).doesNotContain(vault.rootToken());
        if (exit == 1) { // a usage error (2) adds picocli's "Try 'meshfed … --help'" line
            assertThat(r.err().strip()).doesNotContain("\n");
        }
        return r;
    }

    /** A PKI mount with its own root, and a role on it whose URI SANs are {@code allowedUriSans}. */
    private X509Certificate vaultCa(String mount, String allowedUriSans) throws Exception {
        vault.mountPki(mount);
        X509Certificate root = vault.generateRoot(mount, mount + " root", Duration.ofDays(365));
        Map<String, Object> role = new HashMap<>(Map.of("allowed_uri_sans", allowedUriSans, "require_cn", false,
                "key_type", "any", "max_ttl", "720h", "ttl", "24h", "basic_constraints_valid_for_non_ca", true));
        Vault admin = Vault.create(new VaultConfig().address(vault.address()).token(vault.rootToken())
                .engineVersion(1).build());
        assertThat(admin.logical().write(mount + "/roles/spiffe", role).getRestResponse().getStatus())
                .isIn(200, 204);
        return root;
    }

    private String[] vaultFlags(String mount) {
        return new String[] {"--vault-address", vault.address(), "--vault-mount", mount, "--vault-role", "spiffe",
            "--vault-token-file", tokenFile.toString()};
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Joins a gateway of {@code member}; returns the top certificate of its SVID's chain. */
    private X509Certificate joinGateway(String member, String name) throws Exception {
        var joined = federation.join(federation.token(member, Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, member, name,
                SpiffeId.parse("spiffe://" + member + ".acme.mesh/meshfed/gateway/" + name));
        List<X509Certificate> chain = joined.svid().chain();
        return chain.get(chain.size() - 1);
    }

    /** Whether {@code top} (the top of an SVID's chain) is {@code root} or was signed by it. */
    private static boolean signedBy(X509Certificate top, X509Certificate root) {
        if (top.equals(root)) {
            return true;
        }
        try {
            top.verify(root.getPublicKey());
            return true;
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
    }

    private String phase(String trustDomain) throws Exception {
        return federation.admin().listRotations(ListRequest.getDefaultInstance()).getRotationsList().stream()
                .filter(r -> r.getTrustDomain().equals(trustDomain)).findFirst().orElseThrow().getPhase();
    }

    @Test
    void aVaultCaWhoseRoleAllowsAnySanIsRefusedAndNothingIsStored() throws Exception {
        vaultCa("pki", "*");
        Result r = refused(1, concat(new String[] {"member", "add", "east", "--type", "vm", "--network", "east",
            "--ca", "vault"}, vaultFlags("pki")));
        assertThat(r.err()).contains("Vault role pki/roles/spiffe allows URI SANs '*' outside trust domain"
                + " east.acme.mesh");
        assertThat(ok("members").out()).doesNotContain("east.acme.mesh");
        assertThat(federation.dataDir.resolve("ca").resolve("east.acme.mesh")).doesNotExist();

        // Vault flags without --ca vault, and --ca vault without its flags, are usage errors saying so.
        assertThat(refused(2, concat(new String[] {"member", "add", "east", "--type", "vm", "--network", "east"},
                vaultFlags("pki"))).err()).contains("the --vault-* and --provided-dir flags need --ca vault or provided");
        assertThat(refused(2, "member", "add", "east", "--type", "vm", "--network", "east", "--ca", "vault").err())
                .contains("--vault-address");
    }

    @Test
    void aMemberWithAVaultCaGetsSvidsVaultSignedAndOneRotationMovesItToBuiltin() throws Exception {
        X509Certificate vaultRoot = vaultCa("pki", "spiffe://east.acme.mesh/*");
        ok(concat(new String[] {"member", "add", "east", "--type", "vm", "--network", "east", "--ca", "vault"},
                vaultFlags("pki")));
        assertThat(signedBy(joinGateway("east", "gw-1"), vaultRoot)).isTrue();
        assertThat(vault.requests("/v1/pki/sign/spiffe")).isEqualTo(1);

        // A Vault CA is rotated only to a CA named with --to.
        assertThat(refused(1, "trust", "rotate", "east.acme.mesh").err()).contains("has a vault CA: say which new CA"
                + " to rotate to with --to vault");
        Result rotate = ok("trust", "rotate", "east.acme.mesh", "--to", "builtin");
        assertThat(rotate.out()).containsPattern("east\\.acme\\.mesh +1 +add-root +\\S+ +vault [0-9a-f]{12} +builtin"
                + " [0-9a-f]{12}");
        // No subscriber is connected, so each gate opens at the next check.
        await().atMost(Duration.ofSeconds(30)).until(() -> phase("east.acme.mesh").equals("completed"));
        X509Certificate builtinTop = joinGateway("east", "gw-2");
        assertThat(signedBy(builtinTop, vaultRoot)).isFalse();
        assertThat(vault.requests("/v1/pki/sign/spiffe")).as("the builtin CA signed, not Vault").isEqualTo(1);
        assertThat(ok("trust", "rotation", "status").out()).containsPattern("east\\.acme\\.mesh +1 +completed ");
    }

    @Test
    void aRotationToVaultIssuesFromVaultAndVaultDownIsUnavailableWhileExistingSvidsKeepWorking() throws Exception {
        ok("member", "add", "east", "--type", "vm", "--network", "east");
        X509Certificate builtinTop = joinGateway("east", "gw-1");
        X509Certificate vaultRoot = vaultCa("pki-east", "spiffe://east.acme.mesh/*");
        ok(concat(new String[] {"trust", "rotate", "east.acme.mesh", "--to", "vault"}, vaultFlags("pki-east")));
        await().atMost(Duration.ofSeconds(30)).until(() -> phase("east.acme.mesh").equals("completed"));
        assertThat(signedBy(joinGateway("east", "gw-2"), vaultRoot)).isTrue();
        assertThat(signedBy(builtinTop, vaultRoot)).isFalse();
        assertThat(vault.requests("/v1/pki-east/sign/spiffe")).isEqualTo(1);

        var joined = federation.join(federation.token("east", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "east", "gw-3",
                SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw-3"));
        vault.stop();
        var refusedJoin = org.assertj.core.api.Assertions.catchThrowableOfType(() -> joinGateway("east",
                "gw-4"), StatusRuntimeException.class);
        assertThat(refusedJoin.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
        assertThat(refusedJoin.getStatus().getDescription()).contains("the CA of east.acme.mesh cannot issue now");
        // The SVID Vault signed before still works: its config stream delivers a snapshot.
        try (var subscriber = new io.meshfed.controller.testing.TestSubscriber(federation.channel(joined.svid()))) {
            assertThat(subscriber.awaitSnapshot(x -> true, Duration.ofSeconds(30)).getVersion()).isNotEmpty();
        }
        assertThat(ok("status").out()).startsWith("controller  trust domain acme.mesh"); // the admin API works
        vault.resume();
        assertThat(signedBy(joinGateway("east", "gw-5"), vaultRoot)).isTrue();
    }

    @Test
    void rotationsThatCannotBeDoneAreOneLineErrors() throws Exception {
        ok("member", "add", "east", "--type", "vm", "--network", "east");
        assertThat(ok("trust", "rotation", "status").out()).isEqualTo("no rotation has run\n");
        assertThat(refused(1, "trust", "rotate", "acme.mesh").err()).contains("is the federation's own");
        assertThat(refused(1, "trust", "rotate", "ghost.acme.mesh").err()).contains("trust domain ghost.acme.mesh is"
                + " no member's; see meshfed members");
        assertThat(refused(2, "trust", "rotate", "east.acme.mesh", "--soak", "soon").err()).contains("soon");
        assertThat(refused(2, concat(new String[] {"trust", "rotate", "east.acme.mesh"}, vaultFlags("pki"))).err())
                .contains("--to");
        Path empty = Files.createDirectories(dir.resolve("empty-ca"));
        assertThat(refused(1, "trust", "rotate", "east.acme.mesh", "--to", "provided", "--provided-dir",
                empty.toString()).err()).contains("the new CA of east.acme.mesh cannot be used: ");
        assertThat(refused(1, "trust", "rotation", "abort").err()).contains("no rotation is in progress");

        Result started = ok("trust", "rotate", "east.acme.mesh", "--soak", "1h");
        assertThat(started.out()).contains("add-root");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ok("trust", "rotation", "status")
                .out()).contains("east.acme.mesh waits: soak: the phase lasts until ")); // from the first check on
        assertThat(ok("trust", "rotation", "status", "-o", "json").out()).contains("\"phase\": \"add-root\"")
                .contains("\"waitingFor\": [");
        assertThat(refused(1, "trust", "rotate", "east.acme.mesh").err()).contains("a rotation of east.acme.mesh is"
                + " in progress (phase add-root since ");
        assertThat(ok("status").out()).contains("Root rotations in progress:").contains("add-root");
        assertThat(ok("trust", "rotation", "abort", "east.acme.mesh").out()).contains("aborted");
        assertThat(ok("status").out()).doesNotContain("Root rotations in progress:");
    }
}
