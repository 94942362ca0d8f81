package io.meshfed.controller.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * An admin's caller policy for a service ({@code name.namespace}): allow or deny the callers {@code from} names (a
 * SPIFFE ID pattern, see trust-bundle's {@code SpiffeIdPattern}). Keyed by {@link #id}, derived from the content, so
 * the same rule is one record however often it is given and has the same id on every controller.
 */
public record CallerPolicyRecord(String id, String service, String namespace, Effect effect, String from) {
    /** What the policy decides for the callers it names. */
    public enum Effect { ALLOW, DENY }

    /** A policy with its content-derived id. */
    public static CallerPolicyRecord of(String service, String namespace, Effect effect, String from) {
        return new CallerPolicyRecord(id(service, namespace, effect, from), service, namespace, effect, from);
    }

    /** The first 12 hex digits of SHA-256 over {@code <service>.<namespace>\n<EFFECT>\n<from>}. */
    public static String id(String service, String namespace, Effect effect, String from) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((service + "." + namespace + "\n" + effect
                    + "\n" + from).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The trust domain an allow policy names, whose members the service becomes visible to; empty for a deny, or a
     * pattern that no longer reads (it was validated when it was put).
     */
    public java.util.Optional<String> allowedTrustDomain() {
        if (effect != Effect.ALLOW) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(io.meshfed.trust.SpiffeIdPattern.parse(from).trustDomain().name());
        } catch (io.meshfed.trust.InvalidSpiffeIdException e) {
            return java.util.Optional.empty();
        }
    }

    /** The service's key, as exports key it ({@code name.namespace}). */
    public String serviceKey() {
        return service + "." + namespace;
    }
}
