package io.meshfed.dataplane;

import java.util.Locale;

/**
 * Which rule decided whether a caller may reach a service: the {@code reason} label of
 * {@code meshfed_authz_decisions_total{decision,reason}}, with the decision it stands for.
 */
public enum AuthzReason {
    /** Allowed: the caller's trust domain is one the service is exported to. */
    EXPORT(true),
    /** Allowed: an admin's allow rule names the caller. */
    POLICY_ALLOW(true),
    /** Refused: neither an export nor an allow rule covers the caller. */
    NOT_EXPORTED(false),
    /** Refused: an admin's deny rule names the caller (deny wins over everything else). */
    POLICY_DENY(false),
    /** Refused: the caller's SPIFFE ID was revoked. */
    REVOKED(false),
    /** Refused: this proxy has no target with an upstream for the service port. */
    UNKNOWN_SERVICE(false);

    private final boolean allows;

    AuthzReason(boolean allows) {
        this.allows = allows;
    }

    /** Whether a decision for this reason lets the caller in. */
    public boolean allows() {
        return allows;
    }

    /** The {@code decision} label: {@code allow} or {@code deny}. */
    public String decision() {
        return allows ? "allow" : "deny";
    }

    /** The {@code reason} label, e.g. {@code policy_deny}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
