package io.meshfed.trust.ca.vault.testing;

import java.util.List;

/** An answer in Vault's error format, {@code {"errors":[...]}}, with its HTTP status. */
final class VaultError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final List<String> errors;

    VaultError(int status, List<String> errors) {
        super(status + " " + errors, null, false, false);
        this.status = status;
        this.errors = errors;
    }

    /** One error, as Vault's request handler reports a backend's user error (400), e.g. a role violation. */
    static VaultError of(int status, String message) {
        return new VaultError(status, List.of(message));
    }

    /**
     * One error wrapped the way Vault's core wraps errors it collects with go-multierror, e.g. a policy denial
     * ({@code 1 error occurred:\n\t* permission denied\n\n}).
     */
    static VaultError multi(int status, String message) {
        return new VaultError(status, List.of("1 error occurred:\n\t* " + message + "\n\n"));
    }

    static VaultError badRequest(String message) {
        return of(400, message);
    }
}
