package io.meshfed.controller.server;

import com.google.protobuf.ByteString;
import io.meshfed.api.v1.BundleSet;
import io.meshfed.api.v1.TrustBundle;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;

/** Conversions between the trust library's types and the api messages. */
public final class Protos {
    private Protos() {}

    public static List<ByteString> der(List<X509Certificate> chain) {
        return chain.stream().map(Protos::der).toList();
    }

    public static ByteString der(X509Certificate cert) {
        try {
            return ByteString.copyFrom(cert.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static BundleSet bundleSet(io.meshfed.trust.BundleSet set) {
        BundleSet.Builder b = BundleSet.newBuilder().setVersion(set.version());
        for (io.meshfed.trust.TrustBundle bundle : set.bundles()) {
            b.addBundles(TrustBundle.newBuilder()
                    .setTrustDomain(bundle.trustDomain().name())
                    .addAllX509Authorities(der(bundle.x509Authorities()))
                    .setSequence(bundle.sequenceNumber())
                    .setRefreshHintSeconds(bundle.refreshHint().map(java.time.Duration::toSeconds).orElse(0L)));
        }
        return b.build();
    }

    /** ROLE_GATEWAY → gateway. */
    public static String roleLabel(String roleName) {
        return roleName.replaceFirst("^ROLE_", "").toLowerCase(Locale.ROOT);
    }
}
