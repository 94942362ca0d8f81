package io.meshfed.trust.tls;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.BundleSet;
import io.meshfed.trust.X509Svid;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The SVID a process presents and the bundle set it verifies peers with, each swappable at any time. Contexts built
 * from it read both at every handshake, so a renewed SVID or a rotated bundle applies to the next connection while
 * established connections carry on. Thread-safe.
 */
public final class TlsCredentials {
    private final AtomicReference<X509Svid> svid;
    private final AtomicReference<BundleSet> bundles;

    private TlsCredentials(X509Svid svid, BundleSet bundles) {
        this.svid = new AtomicReference<>(svid);
        this.bundles = new AtomicReference<>(bundles);
    }

    public static TlsCredentials of(X509Svid svid, BundleSet bundles) {
        return new TlsCredentials(requireNonNull(svid, "svid"), requireNonNull(bundles, "bundles"));
    }

    public X509Svid svid() {
        return svid.get();
    }

    public BundleSet bundles() {
        return bundles.get();
    }

    /** Presents {@code next} from the next handshake on. */
    public void updateSvid(X509Svid next) {
        svid.set(requireNonNull(next, "next"));
    }

    /** Verifies peers with {@code next} from the next handshake on. */
    public void updateBundles(BundleSet next) {
        bundles.set(requireNonNull(next, "next"));
    }
}
