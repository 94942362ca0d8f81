package io.meshfed.cli.admin;

import io.meshfed.api.v1.CaBackendChoice;
import io.meshfed.cli.context.CliException;
import io.meshfed.cli.context.ExitCodes;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The settings of a CA backend, as flags: {@code --vault-address --vault-mount --vault-role} with
 * {@code --vault-token-file} or {@code --vault-approle-role-id --vault-approle-secret-id-file}, optional
 * {@code --vault-ca-file}; {@code --provided-dir} for provided. Paths name files on the controller's host: secrets
 * never travel.
 */
public final class CaOptions {
    @Option(names = "--vault-address", paramLabel = "URL", description = "Vault, e.g. https://vault:8200.")
    String vaultAddress;

    @Option(names = "--vault-mount", paramLabel = "PATH", description = "The PKI secrets engine's mount, e.g. pki.")
    String vaultMount;

    @Option(names = "--vault-role", paramLabel = "ROLE",
            description = "The PKI role that signs; its allowed_uri_sans must stay inside spiffe://<td>/.")
    String vaultRole;

    @Option(names = "--vault-token-file", paramLabel = "FILE",
            description = "A Vault token, in an owner-only file on the controller's host.")
    String vaultTokenFile;

    @Option(names = "--vault-approle-role-id", paramLabel = "ID", description = "AppRole login: the role ID.")
    String approleRoleId;

    @Option(names = "--vault-approle-secret-id-file", paramLabel = "FILE",
            description = "AppRole login: the secret ID, in an owner-only file on the controller's host.")
    String approleSecretIdFile;

    @Option(names = "--vault-ca-file", paramLabel = "FILE", description = "CA that Vault's TLS certificate chains to.")
    String vaultCaFile;

    @Option(names = "--provided-dir", paramLabel = "DIR",
            description = "provided: the directory on the controller's host with ca-cert.pem, ca-key.pem and"
                    + " cert-chain.pem.")
    String providedDir;

    /** The choice of {@code backend} with these settings; settings of another backend are refused. */
    CaBackendChoice choice(String backend, String flag) {
        Map<String, String> settings = new LinkedHashMap<>();
        put(settings, "address", vaultAddress);
        put(settings, "mount", vaultMount);
        put(settings, "role", vaultRole);
        put(settings, "token-file", vaultTokenFile);
        put(settings, "approle-role-id", approleRoleId);
        put(settings, "approle-secret-id-file", approleSecretIdFile);
        put(settings, "ca-file", vaultCaFile);
        boolean vault = !settings.isEmpty();
        put(settings, "dir", providedDir);
        switch (backend) {
            case "vault" -> {
                for (String[] need : new String[][] {{"address", "--vault-address"}, {"mount", "--vault-mount"},
                        {"role", "--vault-role"}}) {
                    if (!settings.containsKey(need[0])) {
                        throw new CliException(flag + " vault needs " + need[1], ExitCodes.USAGE);
                    }
                }
                if (providedDir != null) {
                    throw new CliException("--provided-dir is for " + flag + " provided", ExitCodes.USAGE);
                }
            }
            case "provided" -> {
                if (vault) {
                    throw new CliException("the --vault-* flags are for " + flag + " vault", ExitCodes.USAGE);
                }
                if (providedDir == null) {
                    throw new CliException(flag + " provided needs --provided-dir", ExitCodes.USAGE);
                }
            }
            case "builtin", "" -> {
                if (!settings.isEmpty()) {
                    throw new CliException("the --vault-* and --provided-dir flags need " + flag
                            + " vault or provided", ExitCodes.USAGE);
                }
            }
            default -> throw new CliException("unknown CA backend '" + backend + "' for " + flag
                    + "; use builtin, provided or vault", ExitCodes.USAGE);
        }
        return CaBackendChoice.newBuilder().setBackend(backend).putAllSettings(settings).build();
    }

    private static void put(Map<String, String> m, String key, String value) {
        if (value != null && !value.isBlank()) {
            m.put(key, value);
        }
    }
}
