package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.SpiffeIdPattern;
import java.util.List;
import java.util.Optional;

/**
 * The admin's caller policies for one service, as a config snapshot gives them: allow and deny rules, each naming
 * callers by a {@link SpiffeIdPattern}. Immutable. {@link RouteTablePolicy} combines them with the export default:
 * a caller is allowed when no deny rule matches it and (its trust domain is exported to, or an allow rule matches).
 */
public record CallerRules(List<Rule> rules) {
    /** No rules: the export default alone decides. */
    public static final CallerRules NONE = new CallerRules(List.of());

    /** What a rule decides for the callers it names. */
    public enum Effect { ALLOW, DENY }

    /** One policy: its id (for logs and metrics), its effect, and whom it names. */
    public record Rule(String id, Effect effect, SpiffeIdPattern from) {
        public Rule {
            requireNonNull(id, "id");
            requireNonNull(effect, "effect");
            requireNonNull(from, "from");
        }
    }

    public CallerRules {
        rules = List.copyOf(rules);
    }

    /** The first deny rule that names {@code caller}. */
    public Optional<Rule> denying(SpiffeId caller) {
        return first(Effect.DENY, caller);
    }

    /** The first allow rule that names {@code caller}. */
    public Optional<Rule> allowing(SpiffeId caller) {
        return first(Effect.ALLOW, caller);
    }

    private Optional<Rule> first(Effect effect, SpiffeId caller) {
        for (Rule r : rules) {
            if (r.effect() == effect && r.from().matches(caller)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }
}
