package io.meshfed.trust.ca.vault;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;

/**
 * Where and how a trust domain's CA lives in Vault: the server, the PKI mount and the role that signs, how the
 * controller authenticates (a token, or an AppRole whose secret ID gets a token at login), the CA of Vault's HTTPS
 * certificate (PEM; empty for the JDK's) and how long one call may take.
 */
public record VaultSettings(URI address, String mount, String role, Credentials credentials, String caPem,
        Duration timeout) {
    public VaultSettings {
        requireNonNull(address, "address");
        requireNonNull(credentials, "credentials");
        if (address.getScheme() == null || !(address.getScheme().equals("https") || address.getScheme().equals("http"))
                || address.getHost() == null) {
            throw new IllegalArgumentException("Vault address '" + address + "' must be https://HOST:PORT"
                    + " (http:// only for a local test server)");
        }
        mount = trimSlashes(requireNonNull(mount, "mount"));
        role = requireNonNull(role, "role");
        if (mount.isEmpty() || !mount.matches("[A-Za-z0-9_./-]+") || mount.contains("..")) {
            throw new IllegalArgumentException("Vault mount '" + mount + "' is not a mount path such as pki or"
                    + " pki/east");
        }
        if (!role.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("Vault role '" + role + "' is not a role name");
        }
        caPem = caPem == null ? "" : caPem;
        timeout = timeout == null ? Duration.ofSeconds(10) : timeout;
    }

    /** How the controller logs in to Vault. */
    public sealed interface Credentials permits Token, AppRole {
    }

    /** A Vault token, renewed before it expires when it is renewable. */
    public record Token(String token) implements Credentials {
        public Token {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("the Vault token is empty");
            }
        }

        @Override
        public String toString() {
            return "Token[****]";
        }
    }

    /** An AppRole: each login with the role ID and secret ID gives a token. */
    public record AppRole(String path, String roleId, String secretId) implements Credentials {
        public AppRole {
            path = path == null || path.isBlank() ? "approle" : trimSlashes(path);
            if (roleId == null || roleId.isBlank() || secretId == null || secretId.isBlank()) {
                throw new IllegalArgumentException("an AppRole needs a role ID and a secret ID");
            }
        }

        @Override
        public String toString() {
            return "AppRole[path=" + path + ", roleId=" + roleId + ", secretId=****]";
        }
    }

    private static String trimSlashes(String s) {
        String t = s.strip();
        while (t.startsWith("/")) {
            t = t.substring(1);
        }
        while (t.endsWith("/")) {
            t = t.substring(0, t.length() - 1);
        }
        return t;
    }
}
