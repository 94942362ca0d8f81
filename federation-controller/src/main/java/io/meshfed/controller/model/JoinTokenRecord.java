package io.meshfed.controller.model;

/**
 * A join token as stored: never the secret, only its SHA-256 (hex). Single use: {@code usedAtMillis} is set, with
 * the SPIFFE ID it was used for, in the same transaction that records the joiner. Agent tokens carry the
 * {@link ServiceScope} their agent may register (null for other roles).
 */
public record JoinTokenRecord(String id, String secretSha256, String member, String role, long expiresAtMillis,
        long usedAtMillis, String usedBy, ServiceScope scope) {
    public boolean used() {
        return usedAtMillis > 0;
    }

    public JoinTokenRecord markUsed(long atMillis, String spiffeId) {
        return new JoinTokenRecord(id, secretSha256, member, role, expiresAtMillis, atMillis, spiffeId, scope);
    }
}
