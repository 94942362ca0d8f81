package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.internal.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * An SVID on disk: the chain as PEM (leaf first) and the private key as PKCS#8 PEM in an owner-only file. Writes
 * are atomic, so a crash leaves the previous SVID or the new one, never a torn file.
 */
public final class SvidFiles {
    private SvidFiles() {}

    /** Writes the key first, then the chain: a reader that sees the new chain also finds its key. */
    public static void write(X509Svid svid, Path chainFile, Path keyFile) throws IOException {
        requireNonNull(svid, "svid");
        AtomicFiles.writeSecret(requireNonNull(keyFile, "keyFile"), Pem.writePrivateKey(svid.privateKey()));
        writeChain(svid.chain(), chainFile);
    }

    public static void writeChain(List<X509Certificate> chain, Path chainFile) throws IOException {
        AtomicFiles.writePublic(requireNonNull(chainFile, "chainFile"), Pem.writeCertificates(chain));
    }

    /** Writes a private key to an owner-only file. */
    public static void writeKey(PrivateKey key, Path keyFile) throws IOException {
        AtomicFiles.writeSecret(requireNonNull(keyFile, "keyFile"), Pem.writePrivateKey(key));
    }

    /**
     * Reads a certificate chain (leaf first).
     *
     * @throws UncheckedIOException when unreadable
     * @throws TrustFormatException naming the file when it holds no certificate or a corrupt one
     */
    public static List<X509Certificate> readChain(Path chainFile) {
        String text = BundleFiles.readText(chainFile);
        try {
            return Pem.readCertificates(text);
        } catch (TrustFormatException e) {
            throw new TrustFormatException(chainFile + ": " + e.getMessage(), e);
        }
    }

    /** Reads an SVID written by {@link #write}; the key must belong to the leaf. */
    public static X509Svid read(Path chainFile, Path keyFile) {
        List<X509Certificate> chain = readChain(chainFile);
        PrivateKey key;
        try {
            key = Pem.readPrivateKey(BundleFiles.readText(keyFile));
        } catch (TrustFormatException e) {
            throw new TrustFormatException(keyFile + ": " + e.getMessage(), e);
        }
        try {
            return X509Svid.of(SvidCertificates.spiffeIdOf(chain.get(0)), chain, key);
        } catch (IllegalArgumentException e) {
            throw new TrustFormatException(chainFile + " and " + keyFile + ": " + e.getMessage(), e);
        }
    }
}
