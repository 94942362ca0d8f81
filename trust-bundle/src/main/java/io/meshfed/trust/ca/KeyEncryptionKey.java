package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.internal.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * The secret that encrypts CA private keys at rest, read from a file (owner-only) or an environment variable. Its
 * value is never printed: {@link #toString()} and every message name only where it came from.
 */
public final class KeyEncryptionKey {
    /** Shortest accepted secret: 16 characters. Generated keys have 43 (256 random bits, base64url). */
    public static final int MIN_LENGTH = 16;

    private final char[] secret;
    private final String source;

    private KeyEncryptionKey(char[] secret, String source) {
        this.secret = secret;
        this.source = source;
    }

    /**
     * Reads a key file.
     *
     * @throws CaException when it is missing, unreadable, readable by group or others, or too short
     */
    public static KeyEncryptionKey fromFile(Path file) {
        requireNonNull(file, "file");
        String source = "key-encryption key file " + file;
        String text;
        try {
            if (AtomicFiles.readableByOthers(file)) {
                throw new CaException(source + " is accessible by group or others (mode " + AtomicFiles.mode(file)
                        + "); restrict it with: chmod 600 " + file);
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CaException("cannot read " + source + ": " + BundleFiles.describe(e), e);
        }
        return of(text.strip().toCharArray(), source);
    }

    /** Reads the key from an environment variable, as given by {@code environment} (normally System.getenv()). */
    public static KeyEncryptionKey fromEnvironment(String variable, Map<String, String> environment) {
        requireNonNull(variable, "variable");
        String value = environment.get(variable);
        String source = "environment variable " + variable;
        if (value == null) {
            throw new CaException(source + " is not set");
        }
        return of(value.strip().toCharArray(), source);
    }

    /**
     * Creates a new random key file, owner-only from the moment it exists.
     *
     * @throws CaException when the file exists already or cannot be written
     */
    public static KeyEncryptionKey createFile(Path file) {
        requireNonNull(file, "file");
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        try {
            AtomicFiles.createSecret(file, value + "\n");
        } catch (FileAlreadyExistsException e) {
            throw new CaException("key-encryption key file " + file + " exists already; refusing to replace it", e);
        } catch (IOException e) {
            throw new CaException("cannot create key-encryption key file " + file + ": " + BundleFiles.describe(e), e);
        }
        return of(value.toCharArray(), "key-encryption key file " + file);
    }

    /** The key in {@code file}, created first if there is none. */
    public static KeyEncryptionKey loadOrCreate(Path file) {
        return Files.exists(file) ? fromFile(file) : createFile(file);
    }

    /** A key from memory (tests, or a secret manager the caller already read). */
    public static KeyEncryptionKey of(char[] secret, String source) {
        requireNonNull(secret, "secret");
        requireNonNull(source, "source");
        if (secret.length < MIN_LENGTH) {
            throw new CaException(source + " holds " + secret.length + " characters; a key-encryption key needs at least "
                    + MIN_LENGTH);
        }
        return new KeyEncryptionKey(secret.clone(), source);
    }

    /** Where the key came from, for messages. */
    public String source() {
        return source;
    }

    char[] secret() {
        return secret.clone();
    }

    /** Overwrites the secret in memory; the object is unusable afterwards. */
    public void destroy() {
        Arrays.fill(secret, '\0');
    }

    @Override
    public String toString() {
        return "KeyEncryptionKey[" + source + "]";
    }
}
