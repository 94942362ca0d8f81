package io.meshfed.api.config;

import io.meshfed.api.v1.ConfigSnapshot;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A config snapshot's version: a hash of its content, so the same content has the same version across controller
 * restarts and replicas, and a subscriber that built a snapshot from a delta can check it holds what the controller
 * meant. SHA-256 of the snapshot with its version, nonce, subscriber and delta blank, the first 12 bytes in hex.
 */
public final class ConfigVersion {
    private ConfigVersion() {}

    public static String of(ConfigSnapshot snapshot) {
        return ofContent(snapshot.toBuilder().clearVersion().clearNonce().clearSubscriber().clearDelta().build()
                .toByteArray());
    }

    /**
     * The version of a snapshot whose content (version, nonce, subscriber and delta blank) serialises to
     * {@code content}: for a caller that needs those bytes anyway and need not serialise twice.
     */
    public static String ofContent(byte[] content) {
        return ofContent(content, content.length);
    }

    /** As {@link #ofContent(byte[])} for the first {@code length} bytes of {@code content}. */
    public static String ofContent(byte[] content, int length) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(content, 0, length);
            byte[] digest = sha256.digest();
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
