package io.meshfed.trust.ca.vault.testing;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Tokens, AppRoles and ACL policies: the slice of Vault's token store, AppRole auth method and ACL system modelled. */
final class VaultAuth {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /** The policy every token carries unless it is a root token: its own lookup, renewal and revocation. */
    static final Map<String, Set<String>> DEFAULT_POLICY = Map.of(
            "auth/token/lookup-self", Set.of("read"),
            "auth/token/renew-self", Set.of("update"),
            "auth/token/revoke-self", Set.of("update"));

    static final class Token {
        final String id;
        final String accessor = random(24);
        final List<String> policies;
        final Duration creationTtl;
        final Duration explicitMaxTtl;
        final boolean renewable;
        final Instant issueTime;
        final Map<String, String> meta;
        final String path;
        volatile Instant expireTime;
        volatile boolean revoked;

        Token(String id, List<String> policies, Duration ttl, Duration explicitMaxTtl, boolean renewable,
                Instant now, Map<String, String> meta, String path) {
            this.id = id;
            this.policies = List.copyOf(policies);
            this.creationTtl = ttl;
            this.explicitMaxTtl = explicitMaxTtl;
            this.renewable = renewable;
            this.issueTime = now;
            this.meta = Map.copyOf(meta);
            this.path = path;
            this.expireTime = ttl.isZero() ? null : now.plus(ttl);
        }

        boolean root() {
            return policies.contains("root");
        }

        boolean valid(Instant now) {
            Instant e = expireTime;
            return !revoked && (e == null || now.isBefore(e));
        }

        long ttlSeconds(Instant now) {
            Instant e = expireTime;
            return e == null ? 0 : Math.max(0, Duration.between(now, e).toSeconds());
        }
    }

    static final class AppRole {
        final String name;
        volatile String roleId;
        final Set<String> secretIds = ConcurrentHashMap.newKeySet();
        volatile List<String> policies = List.of();
        volatile Duration tokenTtl = Duration.ZERO;
        volatile Duration tokenMaxTtl = Duration.ZERO;

        AppRole(String name) {
            this.name = name;
            this.roleId = java.util.UUID.randomUUID().toString();
        }
    }

    final Map<String, Token> tokens = new ConcurrentHashMap<>();
    final Map<String, AppRole> appRoles = new ConcurrentHashMap<>();
    final Map<String, Map<String, Set<String>>> policies = new ConcurrentHashMap<>();

    VaultAuth() {
        policies.put("default", DEFAULT_POLICY);
    }

    static String random(int n) {
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return s.toString();
    }

    Token create(List<String> policyNames, Duration ttl, Duration explicitMaxTtl, boolean renewable, Instant now,
            Map<String, String> meta, String path) {
        Set<String> p = new LinkedHashSet<>(policyNames);
        if (!p.contains("root")) {
            p.add("default");
        }
        Token t = new Token("hvs." + random(24), List.copyOf(p), ttl, explicitMaxTtl, renewable, now, meta, path);
        tokens.put(t.id, t);
        return t;
    }

    /** The token if it exists and has not expired or been revoked. Expired tokens are revoked, as Vault's expiration manager does. */
    Token lookup(String id, Instant now) {
        Token t = tokens.get(id);
        if (t == null) {
            return null;
        }
        if (!t.valid(now)) {
            tokens.remove(id);
            return null;
        }
        return t;
    }

    /** Whether the token's policies grant {@code capability} on {@code path} (no leading slash). */
    boolean allowed(Token t, String path, String capability) {
        if (t.root()) {
            return true;
        }
        for (String name : t.policies) {
            Map<String, Set<String>> rules = policies.get(name);
            if (rules == null) {
                continue;
            }
            // Vault: an exact rule wins over a glob; "deny" anywhere that matches refuses.
            Set<String> caps = rules.get(path);
            if (caps == null) {
                String best = null;
                for (String rule : rules.keySet()) {
                    if (matches(rule, path) && (best == null || rule.length() > best.length())) {
                        best = rule;
                    }
                }
                caps = best == null ? null : rules.get(best);
            }
            if (caps != null && caps.contains("deny")) {
                return false;
            }
            if (caps != null && (caps.contains(capability) || capability.equals("update") && caps.contains("create")
                    || capability.equals("sudo") && caps.contains("sudo"))) {
                return true;
            }
        }
        return false;
    }

    /** A policy path: {@code *} at the end matches any suffix, {@code +} one path segment. */
    static boolean matches(String rule, String path) {
        String[] r = rule.split("/", -1);
        String[] p = path.split("/", -1);
        for (int i = 0; i < r.length; i++) {
            boolean last = i == r.length - 1;
            if (last && r[i].endsWith("*")) {
                if (i >= p.length) {
                    return r[i].equals("*") && i == p.length;
                }
                String prefix = r[i].substring(0, r[i].length() - 1);
                if (!p[i].startsWith(prefix)) {
                    return false;
                }
                return true;
            }
            if (i >= p.length) {
                return false;
            }
            if (!r[i].equals("+") && !r[i].equals(p[i])) {
                return false;
            }
        }
        return r.length == p.length;
    }

    Map<String, Object> describe(Token t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id);
        m.put("policies", t.policies);
        return m;
    }
}
