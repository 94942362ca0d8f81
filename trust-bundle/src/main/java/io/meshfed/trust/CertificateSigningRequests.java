package io.meshfed.trust;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Makes PKCS#10 requests for SVIDs. The holder keeps the private key; only the CSR travels. */
public final class CertificateSigningRequests {
    private CertificateSigningRequests() {}

    /** A CSR signed with {@code keyPair}, asking for {@code id} as its single URI SAN. */
    public static PKCS10CertificationRequest create(KeyPair keyPair, SpiffeId id) {
        requireNonNull(keyPair, "keyPair");
        requireNonNull(id, "id");
        try {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString())));
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=meshfed"), keyPair.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                    .build(new JcaContentSignerBuilder(KeyPairs.signatureAlgorithm(keyPair.getPrivate()))
                            .build(keyPair.getPrivate()));
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create CSR for " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * A CSR that names no SPIFFE ID, for a requester that does not know its ID yet (a joiner: the controller
     * decides the ID from the join token's member and the joiner's role and name).
     */
    public static PKCS10CertificationRequest createWithoutId(KeyPair keyPair) {
        requireNonNull(keyPair, "keyPair");
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=meshfed"), keyPair.getPublic())
                    .build(new JcaContentSignerBuilder(KeyPairs.signatureAlgorithm(keyPair.getPrivate()))
                            .build(keyPair.getPrivate()));
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot create CSR: " + e.getMessage(), e);
        }
    }

    /** DER encoding of {@link #create}. */
    public static byte[] createDer(KeyPair keyPair, SpiffeId id) {
        try {
            return create(keyPair, id).getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
