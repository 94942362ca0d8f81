package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The answer of an {@link InboundPolicy}: allowed, or refused with the {@link RefusalReason} that is counted and
 * logged. {@code reason} says which rule decided (counted in {@code meshfed_authz_decisions_total}); {@code policyId}
 * is the admin's caller policy that decided, empty when no policy did (an export, a revocation).
 */
public record CallerDecision(Optional<RefusalReason> refusal, AuthzReason reason, String policyId) {
    public CallerDecision {
        requireNonNull(refusal, "refusal");
        requireNonNull(reason, "reason");
        requireNonNull(policyId, "policyId");
        if (refusal.isPresent() == reason.allows()) {
            throw new IllegalArgumentException(reason + " cannot " + (reason.allows() ? "refuse" : "allow"));
        }
    }

    public static CallerDecision allow(AuthzReason reason) {
        return new CallerDecision(Optional.empty(), reason, "");
    }

    public static CallerDecision refuse(RefusalReason refusal, AuthzReason reason) {
        return new CallerDecision(Optional.of(requireNonNull(refusal, "refusal")), reason, "");
    }

    /** As the two above, naming the caller policy that decided. */
    public static CallerDecision byPolicy(CallerRules.Rule rule) {
        return rule.effect() == CallerRules.Effect.ALLOW
                ? new CallerDecision(Optional.empty(), AuthzReason.POLICY_ALLOW, rule.id())
                : new CallerDecision(Optional.of(RefusalReason.UNAUTHORIZED), AuthzReason.POLICY_DENY, rule.id());
    }

    public boolean allowed() {
        return refusal.isEmpty();
    }

    /** The rule that decided, as logs and metrics name it ({@code export}, {@code policy_deny}, ...). */
    public String rule() {
        return reason.label();
    }
}
