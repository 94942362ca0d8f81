package io.meshfed.controller.join;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.v1.Role;
import io.meshfed.controller.model.JoinTokenRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Join tokens: {@code mf1.<id>.<secret>.<root-pin>}. The id names the stored record; the secret (256 random bits)
 * is checked against its stored SHA-256 and never stored itself; the pin is the SHA-256 of the federation root,
 * so the joiner can authenticate the controller before it has any bundle.
 */
public final class JoinTokens {
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);
    private static final Pattern FORMAT =
            Pattern.compile("mf1\\.([0-9a-f]{16})\\.([A-Za-z0-9_-]{43})\\.([A-Za-z0-9_-]{43})");

    /** A token as the joiner holds it, split into its parts. */
    public record Parsed(String id, String secret, String rootPin) {
        @Override
        public String toString() {
            return "JoinToken[" + id + "]"; // never the secret
        }
    }

    /** A token just created: the full token string (shown once) and what was stored. */
    public record Created(String token, JoinTokenRecord record) {}

    private final Store store;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public JoinTokens(Store store, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.clock = requireNonNull(clock, "clock");
    }

        /** A token of {@code role} for {@code member}; agent tokens carry the scope of what their agent may register. */
    public Created create(String member, Role role, io.meshfed.controller.model.ServiceScope scope, Duration ttl,
            String rootPin) {
        requireNonNull(member, "member");
        if (role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED) {
            throw new IllegalArgumentException("a join token needs a role: gateway, agent or edge");
        }
        if ((role == Role.ROLE_AGENT) != (scope != null)) {
            throw new IllegalArgumentException(role == Role.ROLE_AGENT
                    ? "an agent token needs a scope: --service NAME.NAMESPACE (repeatable) or --namespace NS"
                    : "only agent tokens carry a service scope");
        }
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(Duration.ofDays(7)) > 0) {
            throw new IllegalArgumentException("token ttl must be between 1s and 7d, got " + ttl);
        }
        byte[] idBytes = new byte[8];
        byte[] secretBytes = new byte[32];
        random.nextBytes(idBytes);
        random.nextBytes(secretBytes);
        String id = HexFormat.of().formatHex(idBytes);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        Instant expires = clock.instant().plus(ttl);
        JoinTokenRecord record = new JoinTokenRecord(id, sha256Hex(secret), member, role.name(), expires.toEpochMilli(),
                0, "", scope);
        store.transact(tx -> Records.put(tx, Kind.JOIN_TOKEN, id, record, StoreTransaction.ABSENT));
        return new Created("mf1." + id + "." + secret + "." + rootPin, record);
    }

    /** Splits a token; empty-handed joiners and typos get a {@link JoinRefusal}. */
    public static Parsed parse(String token) throws JoinRefusal {
        Matcher m = FORMAT.matcher(token == null ? "" : token.strip());
        if (!m.matches()) {
            throw new JoinRefusal(JoinRefusal.Reason.MALFORMED_TOKEN,
                    "the join token is malformed; expected mf1.<id>.<secret>.<pin> as printed by 'meshfed token create'");
        }
        return new Parsed(m.group(1), m.group(2), m.group(3));
    }

    /** Constant-time check of a presented secret against the stored hash. */
    public static boolean secretMatches(JoinTokenRecord record, String secret) {
        return MessageDigest.isEqual(record.secretSha256().getBytes(StandardCharsets.US_ASCII),
                sha256Hex(secret).getBytes(StandardCharsets.US_ASCII));
    }

    static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
