package io.meshfed.trust;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/** Reads and writes PEM: certificates, unencrypted private keys and certificate signing requests. */
public final class Pem {
    private Pem() {}

    /**
     * All certificates in a PEM text, in order.
     *
     * @throws TrustFormatException when there is none, or a block is not a certificate or is corrupt
     */
    public static List<X509Certificate> readCertificates(String pem) {
        List<X509Certificate> certs = new ArrayList<>();
        for (Object o : readAll(pem)) {
            if (!(o instanceof X509CertificateHolder holder)) {
                throw new TrustFormatException("expected only CERTIFICATE blocks but found " + describe(o));
            }
            certs.add(toX509(holder));
        }
        if (certs.isEmpty()) {
            throw new TrustFormatException("no PEM CERTIFICATE block found");
        }
        return certs;
    }

    /**
     * The unencrypted private key in a PEM text (PKCS#8 {@code PRIVATE KEY}, or the OpenSSL {@code EC PRIVATE KEY}
     * and {@code RSA PRIVATE KEY} forms).
     */
    public static PrivateKey readPrivateKey(String pem) {
        List<Object> objects = readAll(pem);
        if (objects.isEmpty()) {
            throw new TrustFormatException("no PEM private key block found");
        }
        Object o = objects.get(0);
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair pair) {
                // OpenSSL's EC/RSA PRIVATE KEY forms; the public part may be absent, the private part is enough.
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
        } catch (IOException e) {
            throw new TrustFormatException("private key cannot be decoded: " + reason(e), e);
        }
        if (o instanceof PKCS8EncryptedPrivateKeyInfo) {
            throw new TrustFormatException("private key is encrypted; give the key-encryption key to read it");
        }
        throw new TrustFormatException("expected a PRIVATE KEY block but found " + describe(o));
    }

    /** The PKCS#10 certificate signing request in a PEM text ({@code CERTIFICATE REQUEST}). */
    public static PKCS10CertificationRequest readCsr(String pem) {
        List<Object> objects = readAll(pem);
        if (objects.isEmpty()) {
            throw new TrustFormatException("no PEM CERTIFICATE REQUEST block found");
        }
        if (objects.get(0) instanceof PKCS10CertificationRequest csr) {
            return csr;
        }
        throw new TrustFormatException("expected a CERTIFICATE REQUEST block but found " + describe(objects.get(0)));
    }

    /** Reads every PEM object; BouncyCastle's parser skips text between blocks, as openssl does. */
    static List<Object> readAll(String pem) {
        List<Object> out = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o;
            while ((o = parser.readObject()) != null) {
                out.add(o);
            }
        } catch (IOException | RuntimeException e) {
            throw new TrustFormatException("malformed PEM: " + reason(e), e);
        }
        return out;
    }

    public static String writeCertificates(List<X509Certificate> certs) {
        return write(certs.toArray());
    }

    /** PKCS#8 {@code PRIVATE KEY}. Only for keys the caller owns and is writing to an owner-only file. */
    public static String writePrivateKey(PrivateKey key) {
        try {
            return write(new JcaPKCS8Generator(key, null).generate());
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new IllegalStateException("cannot encode private key: " + e.getMessage(), e);
        }
    }

    public static String writeCsr(PKCS10CertificationRequest csr) {
        return write(csr);
    }

    static String write(Object... objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                writer.writeObject(o);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode PEM: " + e.getMessage(), e);
        }
        return out.toString();
    }

    static X509Certificate toX509(X509CertificateHolder holder) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(holder.getEncoded()));
        } catch (CertificateException | IOException e) {
            throw new TrustFormatException("certificate cannot be decoded: " + reason(e), e);
        }
    }

    /** Parses one DER certificate. */
    public static X509Certificate certificateFromDer(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new TrustFormatException("not a DER X.509 certificate: " + reason(e), e);
        }
    }

    /** A library's message for a user: without the Java class names parsers put in front of their causes. */
    static String reason(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\b(?:[a-z]\\w*\\.)+\\w*(?:Exception|Error): ", "");
    }

    private static String describe(Object o) {
        if (o instanceof PrivateKeyInfo || o instanceof PEMKeyPair) {
            return "a private key";
        }
        if (o instanceof PKCS8EncryptedPrivateKeyInfo) {
            return "an encrypted private key";
        }
        if (o instanceof X509CertificateHolder) {
            return "a certificate";
        }
        if (o instanceof PKCS10CertificationRequest) {
            return "a certificate request";
        }
        return "a " + o.getClass().getSimpleName();
    }
}
