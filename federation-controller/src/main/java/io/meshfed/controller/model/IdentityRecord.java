package io.meshfed.controller.model;

/**
 * An identity that joined: its SPIFFE ID (the key), member, role ({@code ROLE_AGENT}, ...), for agents the scope
 * its join token granted (null for other roles), when it joined, and when it was revoked (0 while it is not).
 */
public record IdentityRecord(String spiffeId, String member, String role, ServiceScope scope, long joinedAtMillis,
        long revokedAtMillis) {
    public boolean revoked() {
        return revokedAtMillis > 0;
    }

    public IdentityRecord revokedAt(long atMillis) {
        return new IdentityRecord(spiffeId, member, role, scope, joinedAtMillis, atMillis);
    }
}
