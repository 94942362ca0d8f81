package io.meshfed.trust.ca;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.BundleFiles;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.KeyPairs;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.TrustFormatException;
import io.meshfed.trust.internal.AtomicFiles;
import io.meshfed.trust.internal.CertificateBuilder;
import io.meshfed.trust.internal.EncryptedPrivateKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * The {@code builtin} CA: a self-signed root per trust domain and an intermediate that signs, made with BouncyCastle
 * and kept in a directory. Private keys are stored as PKCS#8 encrypted under a {@link KeyEncryptionKey}; certificates
 * and the bundle (SPIFFE JSON and PEM) are public files beside them.
 *
 * <p>Files are written one by one, atomically, with {@value #ROOT_CERT} last: a directory without it is an
 * interrupted creation, which {@link #create} completes over and {@link #load} reports.
 */
public final class BuiltinCertificateAuthority extends SigningCertificateAuthority {
    /** The backend's name in configuration. */
    public static final String BACKEND = "builtin";

    public static final String ROOT_CERT = "root.crt.pem";
    public static final String ROOT_KEY = "root.key.pem";
    public static final String INTERMEDIATE_CERT = "intermediate.crt.pem";
    public static final String INTERMEDIATE_KEY = "intermediate.key.pem";
    public static final String BUNDLE_JSON = "bundle.json";
    public static final String BUNDLE_PEM = "bundle.pem";
    /** Default name of the key-encryption key file when none is given. */
    public static final String DEFAULT_KEK_FILE = "ca.kek";

    /** Creation options, with defaults. */
    public record Options(KeyAlgorithm keyAlgorithm, Duration rootTtl, Duration intermediateTtl) {
        public static final Options DEFAULTS =
                new Options(KeyAlgorithm.EC_P256, Duration.ofDays(3650), Duration.ofDays(365));

        public Options {
            requireNonNull(keyAlgorithm, "keyAlgorithm");
            requireNonNull(rootTtl, "rootTtl");
            requireNonNull(intermediateTtl, "intermediateTtl");
            if (rootTtl.compareTo(Duration.ofHours(1)) < 0) {
                throw new IllegalArgumentException("rootTtl must be at least 1h, got " + rootTtl);
            }
            if (intermediateTtl.compareTo(Duration.ofHours(1)) < 0) {
                throw new IllegalArgumentException("intermediateTtl must be at least 1h, got " + intermediateTtl);
            }
        }

        public Options withKeyAlgorithm(KeyAlgorithm algorithm) {
            return new Options(algorithm, rootTtl, intermediateTtl);
        }
    }

    private final Path directory;
    private final X509Certificate intermediate;

    private BuiltinCertificateAuthority(Path directory, TrustDomain trustDomain, X509Certificate root,
            X509Certificate intermediate, PrivateKey intermediateKey, Clock clock) {
        super(trustDomain, root, new SvidSigner(trustDomain, List.of(intermediate, root), intermediateKey, clock));
        this.directory = directory;
        this.intermediate = intermediate;
    }

    /** Whether {@code directory} holds a complete builtin CA. */
    public static boolean exists(Path directory) {
        return Files.isRegularFile(directory.resolve(ROOT_CERT));
    }

    /**
     * Creates a new CA in {@code directory} (created if needed).
     *
     * @throws CaException when the directory already holds a CA, or cannot be written
     */
    public static BuiltinCertificateAuthority create(Path directory, TrustDomain trustDomain, KeyEncryptionKey kek,
            Options options, Clock clock) {
        requireNonNull(directory, "directory");
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(kek, "kek");
        requireNonNull(options, "options");
        requireNonNull(clock, "clock");
        if (exists(directory)) {
            throw new CaException("a CA already exists in " + directory + " (" + ROOT_CERT + " is there); refusing to"
                    + " replace it");
        }
        SecureRandom random = new SecureRandom();
        Instant now = clock.instant();
        KeyPair rootKeys = options.keyAlgorithm().generate(random);
        KeyPair intermediateKeys = options.keyAlgorithm().generate(random);
        Instant rootNotAfter = now.plus(options.rootTtl());
        Instant intermediateNotAfter = now.plus(options.intermediateTtl());
        if (intermediateNotAfter.isAfter(rootNotAfter)) {
            intermediateNotAfter = rootNotAfter;
        }
        X509Certificate root = CertificateBuilder.builder()
                .subject(caName(trustDomain, "root CA"))
                .selfSigned(rootKeys.getPublic(), rootKeys.getPrivate())
                .validity(now.minus(SvidSigner.BACKDATE), rootNotAfter)
                .ca(true, null)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .uriSan(trustDomain.id().toString())
                .build();
        X509Certificate intermediate = CertificateBuilder.builder()
                .subject(caName(trustDomain, "intermediate CA"))
                .issuedBy(root, rootKeys.getPrivate())
                .publicKey(intermediateKeys.getPublic())
                .validity(now.minus(SvidSigner.BACKDATE), intermediateNotAfter)
                .ca(true, 0)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .uriSan(trustDomain.id().toString())
                .build();
        char[] secret = kek.secret();
        try {
            Files.createDirectories(directory);
            AtomicFiles.writeSecret(directory.resolve(INTERMEDIATE_KEY),
                    EncryptedPrivateKeys.encrypt(intermediateKeys.getPrivate(), secret));
            AtomicFiles.writeSecret(directory.resolve(ROOT_KEY),
                    EncryptedPrivateKeys.encrypt(rootKeys.getPrivate(), secret));
            AtomicFiles.writePublic(directory.resolve(INTERMEDIATE_CERT), Pem.writeCertificates(List.of(intermediate)));
            TrustBundle bundle = TrustBundle.builder(trustDomain).x509Authorities(List.of(root)).sequenceNumber(1)
                    .refreshHint(Duration.ofMinutes(5)).build();
            AtomicFiles.writePublic(directory.resolve(BUNDLE_JSON), SpiffeBundleJson.encode(bundle));
            AtomicFiles.writePublic(directory.resolve(BUNDLE_PEM), Pem.writeCertificates(List.of(root)));
            AtomicFiles.writePublic(directory.resolve(ROOT_CERT), Pem.writeCertificates(List.of(root)));
        } catch (IOException e) {
            throw new CaException("cannot write the CA to " + directory + ": " + BundleFiles.describe(e), e);
        } finally {
            java.util.Arrays.fill(secret, '\0');
        }
        return new BuiltinCertificateAuthority(directory, trustDomain, root, intermediate, intermediateKeys.getPrivate(),
                clock);
    }

    /**
     * Loads the CA in {@code directory}, decrypting its signing key with {@code kek}.
     *
     * @throws CaException when the directory holds no CA or an incomplete one, the key-encryption key is wrong, or a
     *     key does not match its certificate
     */
    public static BuiltinCertificateAuthority load(Path directory, KeyEncryptionKey kek, Clock clock) {
        requireNonNull(directory, "directory");
        requireNonNull(kek, "kek");
        requireNonNull(clock, "clock");
        if (!exists(directory)) {
            boolean partial = Stream.of(ROOT_KEY, INTERMEDIATE_KEY, INTERMEDIATE_CERT)
                    .anyMatch(f -> Files.exists(directory.resolve(f)));
            throw new CaException(partial
                    ? "incomplete CA in " + directory + ": its creation was interrupted before " + ROOT_CERT
                            + " was written; run 'meshfed trust ca init' on it again"
                    : "no CA in " + directory + " (" + ROOT_CERT + " not found); create one with 'meshfed trust ca init'");
        }
        X509Certificate root = singleCertificate(directory.resolve(ROOT_CERT));
        X509Certificate intermediate = singleCertificate(directory.resolve(INTERMEDIATE_CERT));
        TrustDomain trustDomain = io.meshfed.trust.SvidCertificates.trustDomainOfCa(root).orElseThrow(() -> new CaException(
                directory.resolve(ROOT_CERT) + " has no spiffe:// URI SAN naming its trust domain; not a meshfed CA"));
        try {
            intermediate.verify(root.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new CaException(directory.resolve(INTERMEDIATE_CERT) + " is not signed by the root in "
                    + directory.resolve(ROOT_CERT), e);
        }
        PrivateKey intermediateKey = decryptKey(directory.resolve(INTERMEDIATE_KEY), kek);
        if (!KeyPairs.matches(intermediate.getPublicKey(), intermediateKey)) {
            throw new CaException(directory.resolve(INTERMEDIATE_KEY) + " does not belong to "
                    + directory.resolve(INTERMEDIATE_CERT));
        }
        return new BuiltinCertificateAuthority(directory, trustDomain, root, intermediate, intermediateKey, clock);
    }

    private static X509Certificate singleCertificate(Path file) {
        List<X509Certificate> certs = readPemFile(file, Pem::readCertificates);
        if (certs.size() != 1) {
            throw new CaException(file + " holds " + certs.size() + " certificates; expected exactly one");
        }
        return certs.get(0);
    }

    private static PrivateKey decryptKey(Path file, KeyEncryptionKey kek) {
        String pem = readPemFile(file, text -> text);
        char[] secret = kek.secret();
        try {
            return EncryptedPrivateKeys.decrypt(pem, secret);
        } catch (EncryptedPrivateKeys.WrongPassphraseException e) {
            throw new CaException("cannot decrypt " + file + ": " + kek.source()
                    + " is not the key-encryption key this CA was created with", e);
        } catch (TrustFormatException e) {
            throw new CaException(file + ": " + e.getMessage(), e);
        } finally {
            java.util.Arrays.fill(secret, '\0');
        }
    }

    private static X500Name caName(TrustDomain trustDomain, String role) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "meshfed")
                .addRDN(BCStyle.OU, trustDomain.name())
                .addRDN(BCStyle.CN, trustDomain.name() + " " + role)
                .build();
    }

    public Path directory() {
        return directory;
    }

    @Override
    public String backend() {
        return BACKEND;
    }

    public X509Certificate intermediateCertificate() {
        return intermediate;
    }

    @Override
    public String toString() {
        return "BuiltinCertificateAuthority[" + trustDomain() + " in " + directory + "]";
    }
}
