package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The answer of an {@link InboundPolicy}: allowed, or refused with the {@link RefusalReason} that is counted and
 * logged. {@code rule} says which rule decided, for logs and metrics ({@code export}, {@code revoked}, ...).
 */
public record CallerDecision(Optional<RefusalReason> refusal, String rule) {
    public CallerDecision {
        requireNonNull(refusal, "refusal");
        requireNonNull(rule, "rule");
    }

    public static CallerDecision allow(String rule) {
        return new CallerDecision(Optional.empty(), rule);
    }

    public static CallerDecision refuse(RefusalReason reason, String rule) {
        return new CallerDecision(Optional.of(requireNonNull(reason, "reason")), rule);
    }

    public boolean allowed() {
        return refusal.isEmpty();
    }
}
