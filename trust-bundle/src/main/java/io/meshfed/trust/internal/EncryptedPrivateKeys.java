package io.meshfed.trust.internal;

import io.meshfed.trust.TrustFormatException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.InputDecryptorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Private keys at rest: PKCS#8 {@code ENCRYPTED PRIVATE KEY} with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), the format
 * {@code openssl pkey} reads with the same passphrase.
 */
public final class EncryptedPrivateKeys {
    static final int ITERATIONS = 210_000;
    /** Used directly, never installed with Security.addProvider: nothing else in the JVM changes. */
    private static final Provider BC = new BouncyCastleProvider();

    /** The passphrase did not decrypt the key. */
    public static final class WrongPassphraseException extends Exception {
        private static final long serialVersionUID = 1L;

        WrongPassphraseException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private EncryptedPrivateKeys() {}

    public static String encrypt(PrivateKey key, char[] passphrase) {
        try {
            OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                    .setPRF(JcaPKCS8Generator.PRF_HMACSHA256)
                    .setIterationCount(ITERATIONS)
                    .setPassword(passphrase)
                    .setProvider(BC)
                    .build();
            StringWriter out = new StringWriter();
            try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
                writer.writeObject(new JcaPKCS8Generator(key, encryptor));
            }
            return out.toString();
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot encrypt private key: " + e.getMessage(), e);
        }
    }

    public static PrivateKey decrypt(String pem, char[] passphrase) throws WrongPassphraseException {
        Object o;
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            o = parser.readObject();
        } catch (IOException | RuntimeException e) {
            throw new TrustFormatException("malformed encrypted key PEM: " + e.getMessage(), e);
        }
        if (!(o instanceof PKCS8EncryptedPrivateKeyInfo encrypted)) {
            throw new TrustFormatException("expected an ENCRYPTED PRIVATE KEY block but found "
                    + (o == null ? "nothing" : o.getClass().getSimpleName()));
        }
        try {
            InputDecryptorProvider decryptor = new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(passphrase);
            PrivateKeyInfo info = encrypted.decryptPrivateKeyInfo(decryptor);
            return new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (PKCSException | IOException | RuntimeException e) {
            // A wrong passphrase shows up as a padding error or, rarely, as garbage that does not parse.
            throw new WrongPassphraseException("the key-encryption key does not decrypt it", e);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("PBES2 decryption is unavailable: " + e.getMessage(), e);
        }
    }
}
