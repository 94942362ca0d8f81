package io.meshfed.controller.connector.consul.testing;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Consul's ACL system as the test server enforces it: tokens with rules on resources (service, node, agent, acl),
 * exact names beating prefixes and the longest match winning, default deny once ACLs are enabled. A request without
 * a token is the anonymous token's, which has no rules here.
 */
public final class ConsulAcl {
    /** The anonymous token's accessor ID, as Consul names it. */
    public static final String ANONYMOUS_ACCESSOR = "00000000-0000-0000-0000-000000000002";

    /** read < write; deny is an explicit no. */
    public enum Access { DENY, READ, WRITE }

    /** One rule: {@code service "web" { policy = "read" }} (exact) or {@code service_prefix "" {...}} (prefix). */
    public record Rule(String resource, String name, boolean prefix, Access access) {
        public static Rule exact(String resource, String name, Access access) {
            return new Rule(resource, name, false, access);
        }

        public static Rule prefix(String resource, String prefix, Access access) {
            return new Rule(resource, prefix, true, access);
        }

        String hcl() {
            return resource + (prefix ? "_prefix" : "") + " \"" + name + "\" { policy = \""
                    + access.name().toLowerCase(java.util.Locale.ROOT) + "\" }";
        }
    }

    /** A token as /v1/acl/token/self shows it, with the rules of its one policy. */
    public record Token(String accessorId, String secretId, String description, String policyId, String policyName,
            List<Rule> rules) {
        Optional<Access> access(String resource, String name) {
            Rule best = null;
            for (Rule r : rules) {
                if (!r.resource().equals(resource)) {
                    continue;
                }
                boolean matches = r.prefix() ? name.startsWith(r.name()) : name.equals(r.name());
                if (!matches) {
                    continue;
                }
                if (best == null || (!r.prefix() && best.prefix())
                        || (r.prefix() == best.prefix() && r.name().length() > best.name().length())) {
                    best = r;
                }
            }
            return Optional.ofNullable(best).map(Rule::access);
        }

        String rulesHcl() {
            return String.join("\n", rules.stream().map(Rule::hcl).toList());
        }
    }

    private final Map<String, Token> bySecret = new ConcurrentHashMap<>();
    private volatile boolean enabled;

    void enable() {
        enabled = true;
    }

    boolean enabled() {
        return enabled;
    }

    Token create(String description, List<Rule> rules) {
        String policyName = "policy-" + bySecret.size();
        Token t = new Token(UUID.randomUUID().toString(), UUID.randomUUID().toString(), description,
                UUID.randomUUID().toString(), policyName, List.copyOf(rules));
        bySecret.put(t.secretId(), t);
        return t;
    }

    void delete(String secretId) {
        bySecret.remove(secretId);
    }

    /** Empty for an unknown secret; the anonymous token (no rules) for no secret at all. */
    Optional<Token> resolve(String secret) {
        if (secret == null || secret.isEmpty()) {
            return Optional.of(new Token(ANONYMOUS_ACCESSOR, "anonymous", "Anonymous Token", "", "", List.of()));
        }
        return Optional.ofNullable(bySecret.get(secret));
    }

    /** Whether the token may do {@code access} on the resource; always true with ACLs disabled. */
    boolean allows(Token token, String resource, String name, Access access) {
        if (!enabled) {
            return true;
        }
        return token.access(resource, name).map(a -> a != Access.DENY && a.compareTo(access) >= 0).orElse(false);
    }
}
