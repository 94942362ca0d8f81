package io.meshfed.trust.testing;

import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustBundle;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.internal.CertificateBuilder;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * A root and an intermediate for one trust domain, made in memory at test time, and a builder for leaves that can
 * break any rule of the X509-SVID standard on purpose.
 */
public final class TestPki {
    private final TrustDomain trustDomain;
    private final KeyPair rootKeys;
    private final X509Certificate root;
    private final KeyPair intermediateKeys;
    private final X509Certificate intermediate;
    private final Instant now;

    private TestPki(TrustDomain trustDomain, Instant now) {
        this.trustDomain = trustDomain;
        this.now = now;
        this.rootKeys = KeyAlgorithm.EC_P256.generate();
        this.root = CertificateBuilder.builder()
                .subject("CN=" + trustDomain + " test root,O=meshfed-test")
                .selfSigned(rootKeys.getPublic(), rootKeys.getPrivate())
                .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(3650)))
                .ca(true, null)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .uriSan(trustDomain.id().toString())
                .build();
        this.intermediateKeys = KeyAlgorithm.EC_P256.generate();
        this.intermediate = CertificateBuilder.builder()
                .subject("CN=" + trustDomain + " test intermediate,O=meshfed-test")
                .issuedBy(root, rootKeys.getPrivate())
                .publicKey(intermediateKeys.getPublic())
                .validity(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)))
                .ca(true, 0)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                .uriSan(trustDomain.id().toString())
                .build();
    }

    public static TestPki create(String trustDomain, Instant now) {
        return new TestPki(TrustDomain.parse(trustDomain), now);
    }

    public TrustDomain trustDomain() {
        return trustDomain;
    }

    public X509Certificate root() {
        return root;
    }

    public KeyPair rootKeys() {
        return rootKeys;
    }

    public X509Certificate intermediate() {
        return intermediate;
    }

    public KeyPair intermediateKeys() {
        return intermediateKeys;
    }

    public TrustBundle bundle() {
        return TrustBundle.of(trustDomain, List.of(root));
    }

    /** A valid SVID for {@code path}, valid for a day around the PKI's "now". */
    public X509Svid svid(String path) {
        return leaf(path).buildSvid();
    }

    public Leaf leaf(String path) {
        return new Leaf(trustDomain.workload(path).toString());
    }

    /** A leaf builder: valid by default; each method breaks or changes one thing. */
    public final class Leaf {
        private final List<String> uris = new ArrayList<>();
        private boolean ca;
        private int keyUsage = KeyUsage.digitalSignature;
        private Instant notBefore = now.minus(Duration.ofHours(1));
        private Instant notAfter = now.plus(Duration.ofHours(23));
        private boolean signedByRoot;
        private KeyPair forgedSigner;
        private KeyPair keys = KeyAlgorithm.EC_P256.generate();

        private Leaf(String uri) {
            uris.add(uri);
        }

        public Leaf ca() {
            this.ca = true;
            return this;
        }

        public Leaf keyUsage(int bits) {
            this.keyUsage = bits;
            return this;
        }

        public Leaf extraUri(String uri) {
            uris.add(uri);
            return this;
        }

        public Leaf noUri() {
            uris.clear();
            return this;
        }

        public Leaf validity(Instant notBefore, Instant notAfter) {
            this.notBefore = notBefore;
            this.notAfter = notAfter;
            return this;
        }

        /** Issued directly by the root (chain of one). */
        public Leaf signedByRoot() {
            this.signedByRoot = true;
            return this;
        }

        /** Names the intermediate as issuer but is signed by an unrelated key. */
        public Leaf forgedSignature() {
            this.forgedSigner = KeyAlgorithm.EC_P256.generate();
            return this;
        }

        public Leaf keys(KeyPair keys) {
            this.keys = keys;
            return this;
        }

        public KeyPair keyPair() {
            return keys;
        }

        /** Leaf then the intermediate (unless signed by the root). */
        public List<X509Certificate> buildChain() {
            X509Certificate issuer = signedByRoot ? root : intermediate;
            KeyPair issuerKeys = signedByRoot ? rootKeys : intermediateKeys;
            CertificateBuilder b = CertificateBuilder.builder()
                    .subject("O=meshfed-test")
                    .issuedBy(issuer, forgedSigner != null ? forgedSigner.getPrivate() : issuerKeys.getPrivate())
                    .publicKey(keys.getPublic())
                    .validity(notBefore, notAfter)
                    .ca(ca, null)
                    .keyUsage(keyUsage)
                    .extendedKeyUsage(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
            uris.forEach(b::uriSan);
            X509Certificate leaf = b.build();
            return signedByRoot ? List.of(leaf) : List.of(leaf, intermediate);
        }

        public X509Svid buildSvid() {
            return X509Svid.of(SpiffeId.parse(uris.get(0)), buildChain(), keys.getPrivate());
        }
    }
}
