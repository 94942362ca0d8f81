package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * An X.509-SVID held by its owner: the SPIFFE ID, the certificate chain (leaf first, then the intermediates that
 * signed it, without the root) and the private key of the leaf. The key never leaves the process that made it.
 */
public final class X509Svid {
    private final SpiffeId id;
    private final List<X509Certificate> chain;
    private final PrivateKey privateKey;

    private X509Svid(SpiffeId id, List<X509Certificate> chain, PrivateKey privateKey) {
        this.id = id;
        this.chain = chain;
        this.privateKey = privateKey;
    }

    /**
     * Binds a chain to its private key. The leaf's single URI SAN must be {@code id}; the key must belong to the leaf.
     *
     * @throws IllegalArgumentException naming what does not match
     */
    public static X509Svid of(SpiffeId id, List<X509Certificate> chain, PrivateKey privateKey) {
        requireNonNull(id, "id");
        requireNonNull(privateKey, "privateKey");
        requireNonNull(chain, "chain");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("chain must contain at least the leaf certificate");
        }
        SpiffeId leafId = SvidCertificates.spiffeIdOf(chain.get(0));
        if (!leafId.equals(id)) {
            throw new IllegalArgumentException("leaf certificate is for " + leafId + ", not " + id);
        }
        if (!KeyPairs.matches(chain.get(0).getPublicKey(), privateKey)) {
            throw new IllegalArgumentException("private key does not belong to the leaf certificate of " + id);
        }
        return new X509Svid(id, List.copyOf(chain), privateKey);
    }

    public SpiffeId id() {
        return id;
    }

    /** Leaf first, then intermediates; the root is in the trust bundle, not here. */
    public List<X509Certificate> chain() {
        return chain;
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    @Override
    public String toString() {
        return "X509Svid[" + id + ", serial " + leaf().getSerialNumber().toString(16) + ", not after " + notAfter() + "]";
    }
}
