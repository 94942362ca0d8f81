package io.meshfed.trust.ca.vault;

import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.response.AuthResponse;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.github.jopenlibs.vault.response.LookupResponse;
import io.meshfed.trust.ca.CaUnavailableException;
import io.meshfed.trust.ca.IssuanceRefusedException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The controller's login to Vault: a token (looked up once to learn its TTL) or an AppRole login, and a token kept
 * fresh: before a call, a token past two thirds of its lease is renewed ({@code renew-self}), or, for an AppRole
 * whose token cannot be renewed any more, logged in again. Calls go through here so that Vault's answers map to one
 * vocabulary: unreachable, sealed, a 5xx or a refused token is {@link CaUnavailableException}; a 400 on a write is
 * the request's fault ({@link IssuanceRefusedException}). Thread-safe (synchronized; calls are rare: one per SVID).
 */
final class VaultSession {
    private static final Pattern ERRORS = Pattern.compile("\"errors\"\\s*:\\s*\\[(.*?)]", Pattern.DOTALL);

    private final VaultSettings settings;
    private final VaultConfig config;
    private final Clock clock;
    private Vault vault;
    private Instant issuedAt;
    private Duration lease = Duration.ZERO; // zero: the token does not expire
    private boolean renewable;

    VaultSession(VaultSettings settings, VaultConfig config, Clock clock) {
        this.settings = settings;
        this.config = config;
        this.clock = clock;
    }

    synchronized void login() {
        try {
            if (settings.credentials() instanceof VaultSettings.AppRole a) {
                Vault anonymous = Vault.create(config);
                AuthResponse auth = anonymous.auth().loginByAppRole(a.path(), a.roleId(), a.secretId());
                token(auth.getAuthClientToken(), Duration.ofSeconds(auth.getAuthLeaseDuration()), true);
            } else {
                String token = ((VaultSettings.Token) settings.credentials()).token();
                token(token, Duration.ZERO, false);
                LookupResponse self = vault.auth().lookupSelf();
                token(token, Duration.ofSeconds(self.getTTL()), self.isRenewable());
            }
        } catch (VaultException e) {
            throw unavailable("logging in", e);
        }
    }

    private void token(String token, Duration lease, boolean renewable) {
        config.token(token);
        this.vault = Vault.create(config);
        this.issuedAt = clock.instant();
        this.lease = lease;
        this.renewable = renewable;
    }

    /** Renews or logs in again when the token is past two thirds of its lease. */
    private void fresh() {
        if (lease.isZero() || clock.instant().isBefore(issuedAt.plus(lease.multipliedBy(2).dividedBy(3)))) {
            return;
        }
        try {
            if (renewable) {
                AuthResponse r = vault.auth().renewSelf();
                if (r.getAuthLeaseDuration() > 0) {
                    issuedAt = clock.instant();
                    lease = Duration.ofSeconds(r.getAuthLeaseDuration());
                    return;
                }
            }
        } catch (VaultException e) {
            if (!(settings.credentials() instanceof VaultSettings.AppRole)) {
                throw unavailable("renewing the controller's token", e);
            }
        }
        if (settings.credentials() instanceof VaultSettings.AppRole) {
            login();
        }
    }

    /**
     * A read; {@code null} when Vault has nothing at {@code path} (404). vault-java-driver returns 4xx answers
     * (but 412) as responses, not exceptions, so the status is checked here.
     */
    synchronized LogicalResponse read(String path) {
        fresh();
        try {
            LogicalResponse r = vault.logical().read(path);
            int status = r.getRestResponse().getStatus();
            if (status == 404) {
                return null;
            }
            if (status >= 300) {
                throw new CaUnavailableException("Vault at " + settings.address() + " answered " + path + " with HTTP "
                        + status + ": " + errors(new String(r.getRestResponse().getBody(), StandardCharsets.UTF_8))
                        + (status == 403 ? "; check the controller's token may read it" : ""));
            }
            return r;
        } catch (VaultException e) {
            if (e.getHttpStatusCode() == 404) {
                return null;
            }
            throw unavailable("reading " + path, e);
        }
    }

    synchronized LogicalResponse write(String path, Map<String, Object> body) throws IssuanceRefusedException {
        fresh();
        try {
            LogicalResponse r = vault.logical().write(path, body);
            int status = r.getRestResponse().getStatus();
            if (status == 400) {
                throw new IssuanceRefusedException(IssuanceRefusedException.Reason.BACKEND_REFUSED,
                        "Vault refused to sign: " + errors(new String(r.getRestResponse().getBody(),
                                StandardCharsets.UTF_8)));
            }
            if (status >= 300) {
                throw new CaUnavailableException("Vault at " + settings.address() + " answered " + path + " with HTTP "
                        + status + ": " + errors(new String(r.getRestResponse().getBody(), StandardCharsets.UTF_8))
                        + (status == 403 ? "; check the controller's token policy allows update on " + path : ""));
            }
            return r;
        } catch (VaultException e) {
            if (e.getHttpStatusCode() == 400) {
                throw new IssuanceRefusedException(IssuanceRefusedException.Reason.BACKEND_REFUSED,
                        "Vault refused to sign: " + errors(e.getMessage()));
            }
            throw unavailable("calling " + path, e);
        }
    }

    private CaUnavailableException unavailable(String doing, VaultException e) {
        int status = e.getHttpStatusCode();
        String what = status == 0 ? "unreachable (" + rootMessage(e) + ")"
                : status == 503 ? "sealed or unavailable (HTTP 503: " + errors(e.getMessage()) + ")"
                : status == 403 ? "refused the controller's credentials (HTTP 403: " + errors(e.getMessage())
                        + "); check the token's policy allows " + settings.mount() + "/sign/" + settings.role()
                : "HTTP " + status + ": " + errors(e.getMessage());
        return new CaUnavailableException("Vault at " + settings.address() + " " + doing + ": " + what, e);
    }

    /** Vault's {@code errors} list out of a body or a driver message, else the text itself (shortened). */
    static String errors(String text) {
        if (text == null) {
            return "";
        }
        Matcher m = ERRORS.matcher(text);
        String out = m.find() ? m.group(1).replace("\\n", " ").replace("\\t", " ").replaceAll("\\s+", " ").strip()
                : text.strip();
        return out.length() > 300 ? out.substring(0, 300) + "…" : out;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }
}
