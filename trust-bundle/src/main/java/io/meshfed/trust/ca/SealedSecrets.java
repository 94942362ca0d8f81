package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secrets other than CA keys kept at rest under the key-encryption key (a member cluster's credentials, say):
 * AES-256-GCM with a key derived by PBKDF2-HMAC-SHA256 (a fresh salt per secret) and the secret's purpose as
 * associated data, so a sealed value moved to another purpose does not open. Format: {@code v1:} then base64 of
 * salt (16 bytes), nonce (12 bytes) and ciphertext with tag.
 */
public final class SealedSecrets {
    private static final String PREFIX = "v1:";
    private static final int ITERATIONS = 100_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyEncryptionKey kek;

    public SealedSecrets(KeyEncryptionKey kek) {
        this.kek = requireNonNull(kek, "kek");
    }

    public String seal(String plaintext, String purpose) {
        byte[] salt = new byte[16];
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(salt);
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key(salt), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(28 + sealed.length).put(salt)
                    .put(nonce).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new CaException("cannot seal a secret: " + e.getMessage(), e);
        }
    }

    /**
     * @throws CaException when the value is not sealed by this format, or was sealed under another key or purpose
     */
    public String open(String sealed, String purpose) {
        if (sealed == null || !sealed.startsWith(PREFIX)) {
            throw new CaException("a sealed " + purpose + " must start with " + PREFIX);
        }
        byte[] all;
        try {
            all = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new CaException("the sealed " + purpose + " is not base64: " + e.getMessage(), e);
        }
        if (all.length < 28 + 16) {
            throw new CaException("the sealed " + purpose + " is truncated");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key(Arrays.copyOfRange(all, 0, 16)),
                    new GCMParameterSpec(128, all, 16, 12));
            cipher.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
            return new String(cipher.doFinal(all, 28, all.length - 28), StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw new CaException("the sealed " + purpose + " does not open with " + kek.source()
                    + " (another key, or altered)", e);
        } catch (GeneralSecurityException e) {
            throw new CaException("cannot open the sealed " + purpose + ": " + e.getMessage(), e);
        }
    }

    private SecretKeySpec key(byte[] salt) throws GeneralSecurityException {
        char[] secret = kek.secret();
        try {
            PBEKeySpec spec = new PBEKeySpec(secret, salt, ITERATIONS, 256);
            byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            spec.clearPassword();
            return new SecretKeySpec(key, "AES");
        } finally {
            Arrays.fill(secret, '\0');
        }
    }
}
