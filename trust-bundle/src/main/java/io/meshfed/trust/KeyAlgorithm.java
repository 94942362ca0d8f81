package io.meshfed.trust;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Key types meshfed generates. ECDSA P-256 is the default everywhere. */
public enum KeyAlgorithm {
    EC_P256("ec-p256"),
    EC_P384("ec-p384"),
    RSA_2048("rsa-2048"),
    RSA_3072("rsa-3072");

    private final String label;

    KeyAlgorithm(String label) {
        this.label = label;
    }

    /** The name used on command lines and in configuration, e.g. {@code ec-p256}. */
    public String label() {
        return label;
    }

    /** Parses a label such as {@code ec-p256} or {@code rsa-3072} (case-insensitive). */
    public static KeyAlgorithm parse(String text) {
        String wanted = text.trim().toLowerCase(Locale.ROOT);
        for (KeyAlgorithm a : values()) {
            if (a.label.equals(wanted)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown key algorithm '" + text + "'; expected one of "
                + Arrays.stream(values()).map(KeyAlgorithm::label).collect(Collectors.joining(", ")));
    }

    public KeyPair generate(SecureRandom random) {
        try {
            KeyPairGenerator generator;
            switch (this) {
                case EC_P256, EC_P384 -> {
                    generator = KeyPairGenerator.getInstance("EC");
                    generator.initialize(new ECGenParameterSpec(this == EC_P256 ? "secp256r1" : "secp384r1"), random);
                }
                default -> {
                    generator = KeyPairGenerator.getInstance("RSA");
                    generator.initialize(this == RSA_2048 ? 2048 : 3072, random);
                }
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot generate " + label + " keys: " + e.getMessage(), e);
        }
    }

    public KeyPair generate() {
        return generate(new SecureRandom());
    }

    @Override
    public String toString() {
        return label;
    }
}
