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
        ConfigSnapshot content = snapshot.toBuilder().clearVersion().clearNonce().clearSubscriber().clearDelta()
                .build();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content.toByteArray());
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
